"""Text from files, reports and people cannot make a viewer's browser fetch anything."""

import pytest

from pmdata.inert_markdown import inert


@pytest.mark.parametrize(
    "text, shown",
    [
        ("![x](http://10.0.0.1/track.png)", "!\\[x](http://10.0.0.1/track.png)"),
        (
            "a ![x][logo] b\n\n[logo]: http://host/l.png",
            "a !\\[x][logo] b\n\n[logo]: http://host/l.png",
        ),
        ("[![badge](http://h/b.svg)](http://h)", "[!\\[badge](http://h/b.svg)](http://h)"),
        ("no image, [a link](http://h) stays", "no image, [a link](http://h) stays"),
        ("code `![x](y)` stays", "code `![x](y)` stays"),
        ("```md\n![x](y)\n```\nthen ![z](w)", "```md\n![x](y)\n```\nthen !\\[z](w)"),
        (None, ""),
    ],
)
def test_images_become_text_and_the_rest_is_untouched(text, shown):
    assert inert(text) == shown
