"""The `pmdata` entry point: sends `pmdata hook` down a lean path, everything else to commands."""

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hook"] and not {"install", "-h", "--help"} & set(argv[1:]):
        # Runs inside every agent tool call: standard library only, nothing on stdout, exit 0.
        from pmdata.ingest.hook_command import main as record_hook

        return record_hook(argv[1:])
    from pmdata.cli_args import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
