"""Every screen opens at phone size in Hindi with nothing cut off sideways; the run saves a
screenshot of each to docs/screenshots/."""

from playwright.sync_api import expect

from tests.e2e.harness import VOLUNTEER

SCREENS = {
    "home": "/",
    "members": "/members",
    "member-new": "/members/new",
    "grievances": "/grievances",
    "grievance-new": "/grievances/new",
}


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_every_screen_at_phone_size_in_hindi(phones):
    phone = phones()
    phone.login(VOLUNTEER)
    phone.add_member("सुनीता कुमारी", age=24, phone="9876543210", epic="JHR1234567")
    phone.add_member("राहुल महतो", age=29)
    phone.add_grievance("road", "गाँव की मुख्य सड़क बरसात में बह गई, स्कूल जाने का रास्ता बंद है।")
    phone.page.fill("textarea[name=text]", "BDO कार्यालय में आवेदन दिया गया।")
    phone.page.get_by_role("button", name="टिप्पणी सहेजें").click()
    expect(phone.page.get_by_test_id("note")).to_have_count(1)
    phone.wait_synced()

    for name, path in SCREENS.items():
        phone.go(path)
        expect(phone.page.locator("html")).to_have_attribute("lang", "hi")
        expect(phone.page.locator("main h1").first).to_be_visible()
        assert no_sideways_scroll(phone.page), name
        phone.screenshot(name)

    phone.go("/members")
    phone.member_row("सुनीता कुमारी").click()
    expect(phone.page.locator("input[name=epic]")).to_have_value("JHR1234567")
    assert no_sideways_scroll(phone.page)
    phone.screenshot("member-edit")

    phone.go("/grievances")
    phone.page.get_by_test_id("grievance-row").click()
    expect(phone.page.get_by_test_id("ref-no")).not_to_have_text("नंबर सिंक के बाद मिलेगा")
    assert no_sideways_scroll(phone.page)
    phone.screenshot("grievance-detail")

    # The form says what is wrong, in Hindi, next to each field.
    phone.go("/members/new")
    phone.page.fill("input[name=age]", "16")
    phone.page.fill("input[name=phone]", "12345")
    phone.page.click("button[type=submit]")
    expect(phone.page.get_by_text("उम्र 18 से 35 साल के बीच होनी चाहिए।")).to_be_visible()
    expect(phone.page.get_by_text("साथी की सहमति के बिना नाम नहीं जोड़ा जा सकता।")).to_be_visible()
    assert phone.page.url.endswith("/members/new"), "nothing invalid is saved"
    assert phone.waiting() == 0
    assert phone.errors == []


def test_the_app_is_installable(phones):
    phone = phones()
    phone.login(VOLUNTEER)
    cdp = phone.context.new_cdp_session(phone.page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Test contexts are incognito-like, which Chrome never installs from; nothing else may fail.
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == []
    assert '"lang": "hi"' in manifest["data"]
