"""kefu — the agent's call screen in a real browser (test_agent.sh):
time to interactive with the phone field focused; the CTI screen-pop for
the agent whose extension took the call and not another; a complaint in
Chinese logged from the owner card with the unit pre-filled (a double click
makes one ticket, the summary stays text); its routing live without a
reload; the lookup by phone and the new-owner form; the field checks before
anything is sent; and a session that ends mid-form."""
import datetime
import json
import os
import time
import urllib.request

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import Select

import console
from console import BUILD, DESK, PHONE, check, note, psql, run, sh, timing

PBX = os.environ["KEFU_PBX_TOKEN"]
OWNER_PHONE = os.environ["KEFU_OWNER_PHONE"]
OWNER_NAME = os.environ["KEFU_OWNER_NAME"]
XSS = "<script>window.kefuXss=1</script>"
TAG = str(int(time.time() * 1000))[-6:]     # this run's summaries
UNKNOWN = "057187" + TAG                      # a number nobody is known by


def pbx(event, call_id, caller, extension):
    """The phone system reports a call (POST /api/v1/calls, its token)."""
    body = json.dumps({"event": event, "call_id": call_id, "caller": caller,
                       "extension": extension}).encode()
    req = urllib.request.Request(console.URL + "/api/v1/calls", data=body, method="POST", headers={
        "Authorization": "Bearer " + PBX, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        check(r.status == 200, "POST /api/v1/calls %s: HTTP %s" % (event, r.status))


def iso(ms):
    """ms since the epoch as the browser's Date.toISOString()."""
    d = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def measure(b, name):
    """The latest performance measure `name` of the page, in ms (None if none)."""
    return b.js("const m = performance.getEntriesByName(arguments[0]);"
                "return m.length ? m[m.length - 1].duration : null;", name)


def wait_js(b, script, what, *args):
    """Waits until script answers something true; answers it."""
    for _ in range(300):
        res = b.js(script, *args)
        if res:
            return res
        time.sleep(0.05)
    check(False, "%s: %s" % (b.name, what))


def field_error(b, name):
    """The error shown next to the new-ticket form's field `name`, or None."""
    return b.js("""const el = document.querySelector('form.new-ticket-form [name=' + arguments[0] + ']');
        const l = el && el.closest('label'); const e = l && l.querySelector('.field-error');
        return e ? e.textContent : null;""", name)


def choose(b, name, value):
    Select(b.wait("form.new-ticket-form select[name=%s]" % name)).select_by_value(value)


def count_posts(b):
    """From now on, window.kefuPosts counts the page's POSTs of tickets."""
    b.js("""if (!window.kefuPosts) {
        window.kefuPosts = 0; const f = window.fetch;
        window.fetch = (u, o) => { if (o && o.method === 'POST' && String(u).startsWith('/api/v1/tickets'))
            window.kefuPosts++; return f(u, o); }; }""")


def tickets_with(summary):
    return int(psql("SELECT count(*) FROM ticket WHERE summary = :'p1'", summary))


def ready(ctx):
    """agent.li at 1366x768: the call screen's time to interactive."""
    li = ctx.browser("li", DESK)
    ctx.expect_console("/api/v1/session")        # the sign-in page asks first: 401
    li.open()
    li.signin("agent.li")
    li.open("call")                 # a fresh load with the session: the measured one
    li.wait("input[name=phone]")
    tti = wait_js(li, "const m = performance.getEntriesByName('kefu:call-ready');"
                  "return m.length ? m[0].startTime : null;", "no kefu:call-ready mark")
    timing("call_screen_tti", tti)
    check(li.focused().get_attribute("name") == "phone", "the phone field has the focus on load")
    li.wait(".call-idle")
    li.shot("call-empty")
    return li


def screen_pop(ctx, li):
    """Ringing then answered at 8001: agent.li's card pops, agent.chen's does not."""
    chen = ctx.browser("chen", DESK)
    chen.open()
    chen.signin("agent.chen")
    chen.wait("input[name=phone]")
    for b in (li, chen):
        b.wait(".live-dot.live")
    pbx("ringing", "pop-1", "+86 138-0013-8000", "8001")
    li.wait(".ring-banner", OWNER_PHONE)
    li.shot("ringing-banner")
    pbx("answered", "pop-1", "+86 138-0013-8000", "8001")
    li.wait(".owner-card .owner-name", OWNER_NAME)
    li.wait_gone(".ring-banner")
    check(li.driver.current_url.endswith("#/call/" + OWNER_PHONE), "the pop's address: %s"
          % li.driver.current_url)
    card = li.text(".owner-card")
    for want in ("HZ-XH · 3-1201", "SH-PD · 1-502", "改善", "中文", "厨房下水道堵塞"):
        check(want in card, "the owner card shows %r: %s" % (want, card))
    li.wait(".owner-tickets .countdown")
    li.shot("owner-card-popped")
    # A second call to the other agent's extension: the pop is theirs only.
    pbx("ringing", "pop-2", "13800138000", "8002")
    chen.wait(".ring-banner", OWNER_PHONE)
    pbx("hangup", "pop-2", "13800138000", "8002")
    chen.wait_gone(".ring-banner")
    check(not chen.all(".owner-card") and chen.driver.current_url.endswith("#/call"),
          "agent.chen's screen did not pop agent.li's call: %s" % chen.driver.current_url)
    check(not li.all(".ring-banner"), "agent.chen's ringing did not reach agent.li")
    chen.shot("not-popped")
    pbx("hangup", "pop-1", "13800138000", "8001")
    note("the screen-pop reached agent.li only")


def complaint(li):
    """A complaint in Chinese from the card: one ticket for a double click."""
    li.js("window.kefuMarker = 'no reload';")
    li.button("为该业主新建工单")
    li.wait("form.new-ticket-form")
    got = [li.wait("form.new-ticket-form input[name=%s]" % f).get_attribute("value")
           for f in ("project", "building", "unit")]
    check(got == ["HZ-XH", "3", "1201"], "the owner's first unit is pre-filled: %s" % got)
    Select(li.wait("select[name=unit_pick]")).select_by_value("SH-PD|1|502")
    got = [li.wait("form.new-ticket-form input[name=%s]" % f).get_attribute("value")
           for f in ("project", "building", "unit")]
    check(got == ["SH-PD", "1", "502"], "choosing the other unit fills it: %s" % got)
    Select(li.wait("select[name=unit_pick]")).select_by_value("HZ-XH|3|1201")
    choose(li, "kind", "complaint")
    choose(li, "category", "leak")
    summary = "楼上漏水三天无人处理，业主很生气 %s #%s" % (XSS, TAG)
    li.type("form.new-ticket-form input[name=summary]", summary)
    li.type("form.new-ticket-form textarea[name=detail]", "业主原话：天花板一直在滴水，物业说明天来，已经说了三天。")
    li.shot("new-ticket-form")
    count_posts(li)
    btn = li.wait("button.submit-ticket")
    ActionChains(li.driver).double_click(btn).perform()
    no = li.text(".submitted .ticket-no")
    check(tickets_with(summary) == 1, "one ticket for the double click: %d" % tickets_with(summary))
    stored = psql("SELECT no FROM ticket WHERE summary = :'p1'", summary)
    check(no == stored, "the number shown %s is the store's %s" % (no, stored))
    check(len(li.all(".submitted .ticket-no")) == 1, "one ticket number shown")
    timing("submit_reply_to_shown", measure(li, "kefu:submit-shown:from-reply") or 0)
    shown = li.text(".submitted .submitted-summary")
    check(XSS in shown, "the summary is shown as text, <script> and all: %s" % shown)
    check(li.js("return window.kefuXss;") is None, "the summary's script never ran")
    note("ticket %s logged once (%d POSTs for a double click)" % (no, li.js("return window.kefuPosts;")))
    return no


def routing(li, no):
    """The routing appears live: owner, department and deadlines, as stored."""
    li.wait(".submitted .routing .route-department")
    li.wait(".submitted .routing .route-owner .owner-staff-name")
    res = li.api("GET", "/api/v1/tickets/" + no)
    check(res["status"] == 200, "GET /api/v1/tickets/%s: %s" % (no, res))
    tk = res["body"]
    owner = li.wait(".routing .route-owner").get_attribute("data-staff")
    dept = li.wait(".routing .route-department").get_attribute("data-dept")
    # The department by its Chinese name (department.list), the id kept for this check.
    dept_zh = psql("SELECT name_zh FROM department WHERE id = :'p1'", dept)
    li.wait(".routing .route-department", dept_zh)
    check(li.text(".routing .route-department") == dept_zh, "the department shown by name: %s, "
          "the store names %s %s" % (li.text(".routing .route-department"), dept, dept_zh))
    first = li.wait(".routing .route-first time").get_attribute("datetime")
    resolve = li.wait(".routing .route-resolve time").get_attribute("datetime")
    check(owner == tk["owner"] and dept == tk["department"], "routed to %s/%s, the store says %s/%s"
          % (owner, dept, tk["owner"], tk["department"]))
    check(first == iso(tk["first_response_due"]) and resolve == iso(tk["resolve_due"]),
          "deadlines shown %s %s, the store's %s %s" % (first, resolve, iso(tk["first_response_due"]),
                                                         iso(tk["resolve_due"])))
    db = psql("SELECT owner_id || ' ' || department_id || ' ' || "
              "(extract(epoch FROM first_response_due) * 1000)::bigint || ' ' || "
              "(extract(epoch FROM resolve_due) * 1000)::bigint FROM ticket WHERE no = :'p1'", no)
    check(db == "%s %s %d %d" % (owner, dept, tk["first_response_due"], tk["resolve_due"]),
          "the store's routing %s" % db)
    li.wait(".routing .route-first .countdown")
    check(tk["owner_name"] in li.text(".routing .route-owner"), "the owner's name is shown")
    check(li.js("return window.kefuMarker;") == "no reload", "the page was not reloaded")
    row = li.wait(".owner-tickets tr[data-ticket='%s']" % no, tk["owner_name"])
    check(dept_zh in row.text and XSS in row.text, "the card lists the new ticket, routed: %s" % row.text)
    li.shot("submitted-routed")
    note("%s routed to %s (%s %s) live" % (no, owner, dept, dept_zh))


def lookup(ctx, li):
    """Typing a number and Enter; a bad number; an unknown one."""
    li.go("call")
    li.wait(".call-idle")
    li.type("input[name=phone]", "12345", enter=True)
    li.wait(".phone-bar .field-error", "11")
    li.type("input[name=phone]", "138 0013 8000", enter=True)
    li.wait(".owner-card .owner-name", OWNER_NAME)
    check(li.driver.current_url.endswith("#/call/" + OWNER_PHONE), "the lookup's address")
    timing("owner_lookup_reply_to_shown", measure(li, "kefu:owner-shown:from-reply") or 0)
    ctx.expect_console("/api/v1/owners?phone=" + UNKNOWN)   # not_found: 404
    li.type("input[name=phone]", "0571-87%s-%s" % (TAG[:3], TAG[3:]), enter=True)
    li.wait(".unknown-owner", UNKNOWN)
    li.wait("form.new-ticket-form input[name=name]")
    check(li.focused().get_attribute("name") == "name", "the new owner's name is focused")
    timing("unknown_lookup_reply_to_shown", measure(li, "kefu:owner-shown:from-reply") or 0)
    li.shot("unknown-owner-form")


def field_checks(li):
    """Empty summary, a summary over 200 bytes, a building without unit:
    shown next to the field, nothing sent."""
    count_posts(li)
    before = li.js("return window.kefuPosts;")
    li.type("form.new-ticket-form input[name=name]", "赵女士")
    choose(li, "kind", "inquiry")
    choose(li, "category", "other")
    li.type("form.new-ticket-form input[name=project]", "HZ-XH")
    li.type("form.new-ticket-form input[name=building]", "2")
    li.type("form.new-ticket-form input[name=summary]", "", enter=True)
    li.wait("form.new-ticket-form .field-error")
    check(field_error(li, "summary") == "必填", "empty summary: %s" % field_error(li, "summary"))
    check(field_error(li, "unit") == "楼栋和房号须同时填写", "building without unit: %s"
          % field_error(li, "unit"))
    li.shot("field-errors")
    li.type("form.new-ticket-form input[name=summary]", "漏" * 67, enter=True)   # 201 bytes
    wait_js(li, "const el = document.querySelector('form.new-ticket-form [name=summary]')"
            ".closest('label').querySelector('.field-error');"
            "return !!el && el.textContent.includes('201');", "no byte count shown")
    check("201" in (field_error(li, "summary") or ""), "a summary of 201 bytes: %s"
          % field_error(li, "summary"))
    li.shot("field-error-too-long")
    check(li.js("return window.kefuPosts;") == before, "no request was sent for a refused form")
    check(int(psql("SELECT count(*) FROM ticket t JOIN homeowner h ON h.id = t.homeowner_id "
                   "WHERE h.phone = :'p1'", UNKNOWN)) == 0, "no ticket in the store")
    # Corrected, the new owner's ticket goes through, with the name.
    li.type("form.new-ticket-form input[name=unit]", "1201")
    summary = "咨询交房时间 #%s" % TAG
    li.type("form.new-ticket-form input[name=summary]", summary, enter=True)
    no = li.text(".submitted .ticket-no")
    got = psql("SELECT t.no || ' ' || h.name FROM ticket t JOIN homeowner h ON h.id = t.homeowner_id "
               "WHERE t.summary = :'p1'", summary)
    check(got == "%s 赵女士" % no, "the new owner's ticket: %s (shown %s)" % (got, no))
    timing("submit_new_owner_reply_to_shown", measure(li, "kefu:submit-shown:from-reply") or 0)
    note("field checks held the form; then %s logged for a new owner" % no)


def new_report(li, kind, category, summary):
    """A new ticket form on a fresh card of the known owner (from the empty
    call screen), filled in with summary; answers summary."""
    li.go("call")
    li.wait(".call-idle")
    li.go("call/" + OWNER_PHONE)
    li.wait(".owner-card .owner-name", OWNER_NAME)
    li.button("为该业主新建工单")
    choose(li, "kind", kind)
    choose(li, "category", category)
    li.type("form.new-ticket-form input[name=summary]", summary)
    return summary


def lost_reply(li):
    """The reply of a submit is lost (the ticket was made): the form stays,
    Try again sends the same key and shows that same ticket; an edit after
    the success is a new report with a new key."""
    summary = new_report(li, "repair", "heating", "暖气片不热，家里有老人 #%s" % TAG)
    # The first POST of a ticket reaches the gateway, then its reply is lost.
    li.js("""window.kefuKeys = []; const f = window.fetch; let lose = true;
        window.fetch = async (u, o) => {
            const post = o && o.method === 'POST' && String(u) === '/api/v1/tickets';
            if (post) window.kefuKeys.push(o.headers['Idempotency-Key']);
            const r = await f(u, o);
            if (post && lose) { lose = false; throw new TypeError('Failed to fetch'); }
            return r; };""")
    li.click("button.submit-ticket")
    li.wait(".new-ticket-form .error", "已填写的内容仍在")
    li.shot("reply-lost")
    check(tickets_with(summary) == 1, "the lost reply's ticket is in the store")
    li.button("重试")
    no = li.text(".submitted .ticket-no")
    check(tickets_with(summary) == 1, "a retry makes no second ticket: %d" % tickets_with(summary))
    check(psql("SELECT no FROM ticket WHERE summary = :'p1'", summary) == no, "the retry shows that ticket")
    keys = li.js("return window.kefuKeys;")
    check(len(keys) == 2 and keys[0] == keys[1] and keys[0], "the retry sent the same key: %s" % keys)
    li.type("form.new-ticket-form input[name=summary]", summary + "（二楼卧室）", enter=True)
    li.wait(".submitted .ticket-no")
    wait_js(li, "return document.querySelector('.submitted .ticket-no').textContent !== arguments[0];",
            "the edited report got no ticket of its own", no)
    keys = li.js("return window.kefuKeys;")
    check(len(keys) == 3 and keys[2] != keys[0], "an edit after the success takes a new key: %s" % keys)
    check(tickets_with(summary + "（二楼卧室）") == 1, "the edited report is its own ticket")
    note("a lost reply retried as %s; the edit after it a new ticket" % no)


def session_ends(ctx, li):
    """The session ends mid-form: sign in again, the ticket made once, as typed."""
    summary = new_report(li, "repair", "electrical", "客厅插座没电，请派电工上门 #%s" % TAG)
    sh("%s/services/admin/kefu-admin" % BUILD, "sessions", "agent.li", "--revoke")
    ctx.expect_console("401")
    ctx.expect_console("/api/v1/events")
    li.click("button.submit-ticket")
    li.wait(".modal h2", "员工登录")
    check(li.wait("form.new-ticket-form input[name=summary]").get_attribute("value") == summary,
          "the form keeps the summary under the dialog")
    li.shot("signin-again")
    check(tickets_with(summary) == 0, "nothing was made before the new sign-in")
    li.type(".modal input[name=password]", console.PASSWORD, enter=True)
    li.wait_gone(".modal")
    no = li.text(".submitted .ticket-no")
    check(tickets_with(summary) == 1, "the ticket was made once: %d" % tickets_with(summary))
    check(psql("SELECT no FROM ticket WHERE summary = :'p1'", summary) == no, "its number is shown")
    li.shot("after-signin-again")
    note("signed in again mid-form: %s made once as typed" % no)


def pop_keeps_form(li):
    """A call answered while a report is half typed: the banner offers the
    caller's card; the words typed stay until the agent goes there."""
    summary = new_report(li, "inquiry", "other", "半句话还没写完 #%s" % TAG)
    pbx("answered", "pop-3", UNKNOWN, "8001")
    li.wait(".ring-banner", "已接通")
    check(li.driver.current_url.endswith("#/call/" + OWNER_PHONE), "the half-typed report stays")
    check(li.wait("form.new-ticket-form input[name=summary]").get_attribute("value") == summary,
          "the typed summary is kept")
    li.shot("answered-while-typing")
    li.click(".ring-banner a", "打开业主信息")
    li.wait(".owner-card .owner-name", "赵女士")      # recorded by field_checks' ticket
    li.wait_gone(".ring-banner")
    pbx("hangup", "pop-3", UNKNOWN, "8001")
    check(tickets_with(summary) == 0, "nothing was sent of the half-typed report")


def phone_size(ctx):
    """The owner card at phone size."""
    p = ctx.browser("phone", PHONE)
    p.open("call/" + OWNER_PHONE)
    p.signin("agent.li")
    p.wait(".owner-card .owner-name", OWNER_NAME)
    p.wait(".owner-tickets .countdown")
    p.shot("owner-card-phone")
    p.js("document.querySelector('.owner-tickets').scrollIntoView();")
    p.shot("owner-tickets-phone")
    # Every word from the table, in both languages (a missing key shows as itself).
    check("call." not in p.text("#screen"), "a call screen key is missing: %s" % p.text("#screen"))
    p.button("English")
    p.wait(".owner-tickets h3", "open of")
    check("call." not in p.text("#screen"), "a call screen key is missing in English")
    p.js("window.scrollTo(0, 0);")
    p.shot("owner-card-phone-en")


def main(ctx):
    li = ready(ctx)
    screen_pop(ctx, li)
    no = complaint(li)
    routing(li, no)
    lookup(ctx, li)
    field_checks(li)
    lost_reply(li)
    session_ends(ctx, li)
    pop_keeps_form(li)
    phone_size(ctx)


run(main)
