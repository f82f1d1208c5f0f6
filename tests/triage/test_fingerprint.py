from pmdata.triage.fingerprint import fingerprint, signature

PW = (
    "Error: \x1b[2mexpect(\x1b[22m\x1b[31mlocator\x1b[39m\x1b[2m).\x1b[22mtoHaveText\x1b[2m("
    "\x1b[22m\x1b[32mexpected\x1b[39m\x1b[2m)\x1b[22m failed\n\nLocator:  getByTestId('total')\n"
    'Expected: \x1b[32m"$30.00"\x1b[39m\nReceived: \x1b[31m"$25.00"\x1b[39m\n'
)


def test_ansi_numbers_ids_times_and_quotes_are_normalised():
    a = "Error: request 3f2a9c1e-1111-4222-8333-444455556666 failed at 2026-11-24T12:00:01Z"
    b = "Error: request 9e2a9c1e-aaaa-4bbb-8ccc-ddddeeeeffff failed at 2026-11-25T09:13:44Z"
    a, b = a + " after 350ms", b + " after 20ms"
    assert fingerprint(a) == fingerprint(b)
    assert signature(a) == "Error: request <uuid> failed at <time> after <duration>"
    assert signature("at page.ts:12:7 value 'abc' on localhost:3000 id 0xdeadbeef #42") == (
        "at page.ts:<line> value <str> on <host> id <hex> #<n>"
    )


def test_playwright_messages_keep_the_locator():
    sig = signature(PW)
    assert "\x1b" not in sig
    assert sig.startswith("Error: expect(locator).toHaveText(expected) failed")
    assert "Locator: getByTestId(<str>)" in sig
    assert fingerprint(PW.replace("total", "subtotal")) == fingerprint(PW)  # quoted: same cause


def test_different_causes_differ_and_tests_do_not_matter():
    assert fingerprint("Error: Test timeout of 1000ms exceeded.") != fingerprint(PW)
    assert fingerprint("TypeError: x is undefined") == fingerprint("TypeError: x is undefined")
    assert fingerprint(None) == fingerprint("") and signature(None) == "(no error message)"


def test_a_batch_zeroing_digits_once_gets_the_same_fingerprint_and_suggestion():
    from pmdata.triage.fingerprint import fingerprint_of_zeroed, zero_digits
    from pmdata.triage.rules import Failure, History
    from pmdata.triage.suggestions import classify

    error = "Error: NotImplementedError: feature not implemented (request 4711 after 93ms)"
    failure = Failure("checkout › pays", "tests/e2e/pay.spec.ts", error, "at beforeEach (x.ts:3:9)")
    history = History(occurrences=4, runs=9, consecutive_failures=2, flips=3)
    assert fingerprint_of_zeroed(zero_digits(error)) == fingerprint(error)
    assert classify(history, failure, zeroed_error=zero_digits(error)) == classify(history, failure)


def test_a_machine_error_without_a_place_in_the_code_is_told_apart_by_its_address():
    from pmdata.triage.fingerprint import code_place, machine_target

    db = "Error: connect ECONNREFUSED 127.0.0.1:5432"
    mail = "Error: connect ECONNREFUSED 127.0.0.1:2525"
    places = [code_place(None, None, None, machine_target(e)) for e in (db, mail, db)]
    assert places == ["target 127.0.0.1:5432", "target 127.0.0.1:2525", "target 127.0.0.1:5432"]
    assert fingerprint(db, places[0]) != fingerprint(mail, places[1])
    assert fingerprint(db, places[0]) == fingerprint(db, places[2])
    cdn = "page.goto: net::ERR_NAME_NOT_RESOLVED at http://cdn.shop.invalid/images/lamp.png"
    assert machine_target(cdn) == "net::ERR_NAME_NOT_RESOLVED http://cdn.shop.invalid"
    assert machine_target("Error: expect(received).toBe(expected)") == ""


def test_the_failing_lines_code_names_the_cause_not_its_line_number():
    from pmdata.triage.fingerprint import code_place

    frame = (
        "  6 |     await page.goto(url);\n> 7 |     await expect(page.locator('#h')).toBeVisible();"
    )
    moved = frame.replace("  6 |", " 16 |").replace("> 7 |", "> 17 |")
    here = code_place("shop/account.spec.ts:7:44", frame)
    assert here == "shop/account.spec.ts: await expect(page.locator('#h')).toBeVisible();"
    assert code_place("shop/account.spec.ts:17:44", moved) == here
    generic = "Error: expect(received).toBe(expected) // Object.is equality"
    other = code_place("shop/cart.spec.ts:24:19", "> 24 |     expect(draft).toEqual({ id: 7 });")
    assert fingerprint(generic, here) != fingerprint(generic, other)
