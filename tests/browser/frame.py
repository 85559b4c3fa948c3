"""kefu — the console's frame in a real browser (test_frame.sh): sign-in,
the language switch remembered per staff member, the navigation by role,
an agent kept out of the administrators' page (screen and API), the
security headers, and sign-in again when a session ends mid-work."""
import time
import urllib.error
import urllib.request

from console import DESK, check, note, run, sh, timing, BUILD


def headers_of(url):
    with urllib.request.urlopen(url) as r:
        return dict(r.headers), r.read()


def main(ctx):
    import console
    h, body = headers_of(console.URL + "/")
    csp = h.get("Content-Security-Policy", "")
    check("script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp,
          "the console's CSP is strict: %s" % csp)
    check(h.get("X-Frame-Options") == "DENY" and h.get("X-Content-Type-Options") == "nosniff",
          "the console's pages carry the standard headers: %s" % h)
    etag = h.get("ETag", "")
    check(etag.startswith('"') and h.get("Cache-Control") == "no-cache",
          "the page has an ETag and is revalidated: %s" % h)
    try:
        urllib.request.urlopen(urllib.request.Request(console.URL + "/",
                                                      headers={"If-None-Match": etag}))
        check(False, "a page the browser holds is sent again")
    except urllib.error.HTTPError as e:
        check(e.code == 304, "revalidating the page: HTTP %d, expected 304" % e.code)
    check(b"<script type=\"module\" src=\"/js/app.js\">" in body and b"http" not in body.lower()
          .replace(b"http-equiv", b""), "the page loads only its own script, nothing from elsewhere")

    b = ctx.browser("agent", DESK)
    ms = b.open()
    timing("signin_page_load", ms)
    b.wait("h2", "员工登录")
    focused = b.focused()
    check(focused.get_attribute("name") == "staff", "the staff id is focused on load")
    b.shot("signin-zh")

    # The switch before sign-in: English, then back.
    b.button("English")
    b.wait("h2", "Staff sign-in")
    b.shot("signin-en")
    b.button("中文")
    b.wait("h2", "员工登录")

    # A wrong password says so, in the user's language, and nothing else.
    b.type("input[name=staff]", "agent.li")
    b.type("input[name=password]", "not-the-password", enter=True)
    b.wait(".error", "工号或密码不正确")
    ctx.expect_console("/api/v1/session")   # the browser logs the 401 itself

    b.signin("agent.li")
    check(b.driver.current_url.endswith("#/call"), "an agent starts on the call screen: %s"
          % b.driver.current_url)
    nav = [a.text for a in b.all("header nav a")]
    check("来电" in nav and "系统状态" not in nav, "an agent's navigation: %s" % nav)
    b.shot("agent-home")

    # The administrators' page: refused on screen and by the API.
    b.go("status")
    b.wait("[role=alert]", "您的角色无权查看此页面")
    b.shot("agent-status-refused")
    res = b.api("GET", "/api/v1/status")
    check(res["status"] == 403 and res["body"]["code"] == "forbidden",
          "GET /api/v1/status as an agent: %s" % res)
    ctx.expect_console("/api/v1/status")

    # English for agent.li, remembered across a reload and a new sign-in;
    # another staff member still gets Chinese.
    b.button("English")
    b.wait("header nav a", "Calls")
    b.open("call")
    b.wait("header nav a", "Calls")
    b.button("Sign out")
    b.wait("input[name=staff]")
    b.signin("eng.zhao")
    b.wait("header nav a", "工单")
    b.button("退出")
    b.signin("agent.li")
    b.wait("header nav a", "Calls")
    b.shot("agent-english")
    b.button("中文")
    b.wait("header nav a", "来电")

    # The session ends (revoked by an administrator): the next request asks
    # to sign in again over the screen, then carries on.
    sh("%s/services/admin/kefu-admin" % BUILD, "sessions", "agent.li", "--revoke")
    note("agent.li's sessions revoked")
    b.js("""window.kefuTest = null;
        import('/js/api.js').then(m => m.api('GET', '/api/v1/tickets', {query: {limit: 1}})
            .then(w => { window.kefuTest = {ok: true}; },
                  e => { window.kefuTest = {err: String(e)}; }));""")
    # The dialog is up while the request waits.
    b.wait(".modal h2", "员工登录")
    b.shot("signin-again")
    ctx.expect_console("401")
    b.type(".modal input[name=password]", console.PASSWORD, enter=True)
    b.wait_gone(".modal")
    for _ in range(100):
        res = b.js("return window.kefuTest;")
        if res:
            break
        time.sleep(0.05)
    check(res == {"ok": True}, "the interrupted request went through after sign-in: %s" % res)
    note("signed in again; the interrupted request was answered")


run(main)
