"""kefu — the staff screens in a real browser (test_staff.sh): eng.zhao finds
a new complaint in "my tickets" (and one more appears live), opens it by
number, sees the timeline and the live deadlines, responds (the first
response turns to met), opens an approval request in yuan and sees its
trail, transfers a second ticket with the staff picker (a missing reason is
refused before sending) and is told whose it is now, resolves, and finds no
action offered on the resolved ticket (the API refuses one); search by phone and by Chinese words; the
overdue queue. Every step is checked against the store. Then a queue of
10,000 tickets: the first page and the next are timed (reported), and the
page stays at most 100 rows."""
import time

from console import DESK, check, note, psql, run, sh, timing, BUILD
from staff_forms import in_english, set_value, tap

KEFU = "%s/services/cli/kefu" % BUILD


def submit(kind, category, phone, summary, unit="1201"):
    """A ticket logged by agent.li through the CLI: its number."""
    from console import cert
    out = sh(KEFU, "submit", "--kind", kind, "--category", category, "--channel", "phone",
             "--project", "HZ-XH", "--building", "3", "--unit", unit, "--phone", phone,
             "--summary", summary, env={"KEFU_CERT": cert("agent.li")})
    return out.split()[0]


def wait_store(sql, want, *params, what=""):
    """Polls the store until sql answers want (routing is asynchronous)."""
    got = None
    for _ in range(200):
        got = psql(sql, *params)
        if got == want:
            return
        time.sleep(0.05)
    raise AssertionError("%s: the store says %r, not %r" % (what or sql, got, want))


def rows(b):
    """The numbers of the queue's rows, read at one moment."""
    return b.js("return Array.from(document.querySelectorAll('table.queue-table tbody tr'),"
                " (r) => r.dataset.ticket);")


def wait_rows(b, want, what):
    """Waits until the queue shows exactly the tickets want (a set)."""
    got = None
    for _ in range(300):
        got = rows(b)
        if set(got) == set(want):
            return
        time.sleep(0.05)
    raise AssertionError("%s: the queue shows %s, not %s" % (what, got, sorted(want)))


def setup():
    t1 = submit("complaint", "leak", "13900002001", "三号楼1201卫生间渗漏严重")
    t2 = submit("repair", "crack", "13900002002", "客厅墙面裂缝需要修补", unit="1202")
    t3 = submit("repair", "plumbing", "13900002003", "厨房下水管堵塞 <script>alert(1)</script>",
                unit="1203")
    for t in (t1, t2, t3):
        wait_store("SELECT owner_id || ':' || status FROM ticket WHERE no = :'p1'",
                   "eng.zhao:routed", t, what="%s routed to eng.zhao" % t)
    # t3 is overdue: its first response was due an hour ago.
    psql("UPDATE ticket SET first_response_due = now() - interval '1 hour' WHERE no = :'p1'", t3)
    note("tickets %s %s %s for eng.zhao (%s overdue)" % (t1, t2, t3, t3))
    return t1, t2, t3


def queue_and_live(b, t1, t2, t3):
    b.open()
    b.ctx.expect_console("/api/v1/session")   # the 401 before signing in
    b.signin("eng.zhao")
    b.wait("nav.tabs a.current", "我的工单")
    for t in (t1, t2, t3):
        b.wait("tr[data-ticket='%s']" % t)
    b.wait("tr[data-ticket='%s'] td.fr .countdown.overdue" % t3)
    b.wait("tr[data-ticket='%s'] td.summary" % t3, "<script>alert(1)</script>")   # as text
    # The department by name, its id on hover.
    dept = b.wait("tr[data-ticket='%s'] .dept[data-dept=eng]" % t1, "工程部")
    check(dept.text == "工程部" and dept.get_attribute("title") == "eng",
          "the queue names the department: %s (%s)" % (dept.text, dept.get_attribute("title")))
    b.shot("queue-mine")
    t4 = submit("complaint", "doors-windows", "13900002004", "入户门关不严漏风", unit="1204")
    b.wait("tr[data-ticket='%s']" % t4, timeout=20)
    note("%s appeared live in my tickets" % t4)
    b.shot("queue-mine-live")
    return t4


def ticket_page(b, t1):
    # Search by number: opens the ticket.
    start = time.time()
    b.type("input[name=search]", t1.lower(), enter=True)
    b.wait(".ticket-page[data-ticket='%s'] ol.timeline li" % t1)
    timing("ticket_open_by_number", (time.time() - start) * 1000)
    check(b.driver.current_url.endswith("#/ticket/%s" % t1), "the number opened the ticket: %s"
          % b.driver.current_url)
    b.wait("ol.timeline li.h-submitted")
    b.wait("ol.timeline li.h-routed")
    b.wait(".dl-first .countdown.due")
    check("剩余" in b.text(".dl-first .countdown"), "the first response is due, counting down")
    b.wait(".ticket-facts", "13900002001")
    b.shot("ticket-open")

    b.type("form.action-responses textarea[name=note]", "已联系业主，明早九点上门查看")
    tap(b, "form.action-responses button[type=submit]")
    b.wait(".dl-first .countdown.met")
    b.wait("ol.timeline li.h-responded", "已联系业主")
    check(psql("SELECT responded_at IS NOT NULL FROM ticket WHERE no = :'p1'", t1) == "t",
          "the response is in the store")
    b.shot("ticket-responded")


def approval(b, t1):
    form = "form.action-approval"
    set_value(b, form + " select[name=type]", "refund")
    b.type(form + " input[name=amount]", "1200.555")
    b.type(form + " input[name=reason]", "渗漏造成地板损坏，退还部分物业费")
    set_value(b, form + " input[name=promised]", time.strftime("%Y-%m-%d", time.gmtime(time.time() + 5 * 86400)))
    tap(b, form + " button[type=submit]")
    b.wait(form + " .error", "最多两位小数")
    b.wait(form + " .field.bad input[name=amount]")
    check(psql("SELECT count(*) FROM approval_request r JOIN ticket t ON t.id = r.ticket_id "
               "WHERE t.no = :'p1'", t1) == "0", "a bad amount is refused before sending")
    b.shot("approval-bad-amount")
    b.type(form + " input[name=amount]", "1200.5")
    b.wait(form + " .hint", "¥1,200.50")
    # A double click: two sends of one intended action, one request made.
    b.js("const el = arguments[0]; el.scrollIntoView({block: 'center'}); el.click(); el.click();",
         b.wait(form + " button[type=submit]"))
    b.wait("li.approval .approval-trail ol.steps li.step")
    got = psql("SELECT r.amount_fen || ':' || r.request_type FROM approval_request r "
               "JOIN ticket t ON t.id = r.ticket_id WHERE t.no = :'p1'", t1)
    check(got == "120050:refund", "the request in the store: %s" % got)
    b.wait("li.approval", "¥1,200.50")
    b.wait("li.approval .enum-step_status.v-pending")
    b.shot("approval-trail")


def transfer(b, t2):
    b.go("ticket/%s" % t2)
    b.wait(".ticket-page[data-ticket='%s']" % t2)
    form = "form.action-transfer"
    tap(b, form + " button[type=submit]")
    b.wait(form + " .error", "请先选择转派给谁")
    b.type(form + " input[name=to]", "刘")
    tap(b, form + " button.pick[data-staff='eng.liu']")
    b.wait(form + " .picked", "刘洋")
    tap(b, form + " button[type=submit]")
    b.wait(form + " .error", "请填写原因")
    b.wait(form + " .field.bad input[name=reason]")
    check(psql("SELECT owner_id FROM ticket WHERE no = :'p1'", t2) == "eng.zhao",
          "a transfer without a reason is refused before sending")
    b.shot("transfer-no-reason")
    b.type(form + " input[name=reason]", "暖气片相关，需要经理协调")
    tap(b, form + " button[type=submit]")
    b.wait("ol.timeline li.h-transferred", "暖气片相关")
    # People by name, their ids on hover.
    move = b.wait("ol.timeline li.h-transferred .move", "赵强 → 刘洋")
    check([w.get_attribute("title") for w in move.find_elements("css selector", ".who-name")] ==
          ["eng.zhao", "eng.liu"], "the transfer names eng.zhao and eng.liu: %s" % move.text)
    b.wait("ol.timeline li.h-transferred .actor .who-name[title='eng.zhao']", "赵强")
    check(psql("SELECT owner_id FROM ticket WHERE no = :'p1'", t2) == "eng.liu",
          "the transfer is in the store")
    b.wait(".ticket-facts", "eng.liu")
    # Now someone else's: the page says whose before the forms.
    b.wait(".actions-card .warn-note[data-not-mine=true] .who-name[title='eng.liu']", "刘洋")
    b.shot("ticket-transferred")


def resolve(b, t1):
    b.go("ticket/%s" % t1)
    b.wait(".ticket-page[data-ticket='%s']" % t1)
    b.type("form.action-resolution textarea[name=note]", "已更换防水层，业主确认不再渗漏")
    tap(b, "form.action-resolution button[type=submit]")
    b.wait(".screen-head .enum-status.v-resolved")
    b.wait(".dl-resolve .countdown.met")
    check(psql("SELECT status FROM ticket WHERE no = :'p1'", t1) == "resolved",
          "the resolution is in the store")
    res = b.api("GET", "/api/v1/tickets/%s" % t1)
    check(res["body"]["status"] == "resolved", "GET /api/v1/tickets/%s: %s" % (t1, res))
    b.shot("ticket-resolved")
    # A resolved ticket offers no action, says why, and the API refuses one.
    done = b.wait(".actions-card .ok-note[data-done=true]", "已解决").text
    check(not b.all("form.action-transfer") and not b.all("form.action-responses"),
          "a resolved ticket's page still offers actions")
    note("a resolved ticket's page says: %s" % done)
    res = b.api("POST", "/api/v1/tickets/%s/transfers" % t1, {"to": "eng.liu", "reason": "再转一次"})
    check(res["status"] == 409 and res["body"]["code"] == "conflict",
          "a transfer of a resolved ticket: %s" % res)
    b.ctx.expect_console("/transfers")   # the browser logs the 409 itself
    b.shot("resolved-no-actions")


def search(b, t1, t2, t3, t4):
    b.go("queue?view=dept")
    b.wait("nav.tabs a.current", "本部门")
    b.type("input[name=search]", "139 0000 2002", enter=True)
    wait_rows(b, {t2}, "search by phone")
    b.shot("search-phone")
    b.type("input[name=search]", "渗漏", enter=True)
    wait_rows(b, {t1}, "search by words")
    b.type("input[name=search]", "下水管 厨房", enter=True)
    wait_rows(b, {t3}, "search by two words in another order")
    b.shot("search-words")
    # Filters: resolved ones of the department; none received after tomorrow.
    tap(b, "button.clear-filters")
    set_value(b, "select[name=status]", "resolved")
    wait_rows(b, {t1}, "the department's resolved tickets")
    b.shot("filter-resolved")
    tap(b, "button.clear-filters")
    set_value(b, "input[name=since]", time.strftime("%Y-%m-%d", time.gmtime(time.time() + 2 * 86400)))
    b.wait("p.empty", "此队列中没有工单")
    check("since=" in b.driver.current_url, "the filter is in the address: %s" % b.driver.current_url)
    tap(b, "button.clear-filters")
    b.wait("tr[data-ticket='%s']" % t4)
    b.type("input[name=search]", "下水管 厨房", enter=True)
    wait_rows(b, {t3}, "search again")
    # The overdue queue keeps the search words when chosen, then shows all.
    tap(b, "nav.tabs a[data-view=overdue]")
    b.wait("nav.tabs a.current", "已超时")
    tap(b, "button.clear-filters")
    b.wait("tr[data-ticket='%s'] .countdown.overdue" % t3)
    b.wait_gone(".card p.muted", "下水管")
    wait_rows(b, {t3}, "the overdue queue (%s is not overdue)" % t4)
    b.shot("queue-overdue")
    # The escalated queue: t4 escalated (level 1) in the store.
    psql("UPDATE ticket SET escalation_level = 1 WHERE no = :'p1'", t4)
    tap(b, "nav.tabs a[data-view=escalated]")
    b.wait("nav.tabs a.current", "已升级")
    wait_rows(b, {t4}, "the escalated queue")
    b.shot("queue-escalated")


def live_page(b, t4):
    """The ticket page follows what others do: a response made elsewhere
    (the CLI) appears without a reload."""
    from console import cert
    b.go("ticket/%s" % t4)
    b.wait(".ticket-page[data-ticket='%s'] .dl-first .countdown.due" % t4)
    sh(KEFU, "respond", t4, "--note", "电话里已答复业主", env={"KEFU_CERT": cert("eng.zhao")})
    b.wait("ol.timeline li.h-responded", "电话里已答复业主", timeout=20)
    b.wait(".dl-first .countdown.met")
    b.shot("ticket-live-response")
    # The same page in English: every word from the table.
    in_english(b, "ticket-english", ".ticket-page h2", "History", "处理记录",
               [(".dl-first .countdown.met", "met"), (".ticket-facts .dept", "Engineering")])


def big_queue(ctx):
    """10,000 open tickets of prop.huang, inserted set-based as setup."""
    psql("""INSERT INTO ticket (id, no, kind, category, channel, priority, status, project_id,
                homeowner_id, summary, created_by, owner_id, department_id, routed_at,
                received_at, first_response_due, resolve_due)
            SELECT s.id, kefu_ticket_no(s.id, s.at), 'repair', 'property-service', 'phone', 'normal',
                   'routed', 'HZ-XH', (SELECT min(id) FROM homeowner),
                   '批量工单 ' || s.g, 'agent.li', 'prop.huang', 'property', s.at,
                   s.at, s.at + interval '1 day', s.at + interval '7 days'
              FROM (SELECT nextval('ticket_id_seq') AS id, g,
                           now() - interval '10000 minutes' + g * interval '1 minute' AS at
                      FROM generate_series(1, 10000) AS g) AS s""")
    check(psql("SELECT count(*) FROM ticket WHERE owner_id = 'prop.huang'") == "10000",
          "10,000 tickets in prop.huang's queue")
    b = ctx.browser("prop", DESK)
    b.open()
    b.signin("prop.huang")
    b.wait("table.queue-table tbody tr")
    b.go("queue?view=dept")
    b.wait("nav.tabs a.current", "本部门")
    start = time.time()
    b.go("queue?view=mine")
    b.wait("nav.tabs a.current", "我的工单")
    b.wait("table.queue-table tbody tr")
    first = rows(b)
    timing("queue_10000_first_page", (time.time() - start) * 1000)
    check(0 < len(first) <= 100, "one page of at most 100 rows: %d" % len(first))
    b.shot("queue-10000-first")
    start = time.time()
    tap(b, "button.next")
    b.wait(".page-no", "第 2 页")
    for _ in range(200):
        if rows(b) and rows(b)[0] != first[0]:
            break
        time.sleep(0.02)
    timing("queue_10000_next_page", (time.time() - start) * 1000)
    second = rows(b)
    check(second and not set(second) & set(first) and len(second) <= 100,
          "the next page is other tickets: %s..." % second[:3])
    check(len(b.all("tr[data-ticket]")) <= 100, "the page stays paged")
    b.shot("queue-10000-next")
    tap(b, "button.prev")
    b.wait(".page-no", "第 1 页")
    b.wait("tr[data-ticket='%s']" % first[0])


def main(ctx):
    t1, t2, t3 = setup()
    b = ctx.browser("zhao", DESK)
    t4 = queue_and_live(b, t1, t2, t3)
    ticket_page(b, t1)
    approval(b, t1)
    transfer(b, t2)
    resolve(b, t1)
    search(b, t1, t2, t3, t4)
    live_page(b, t4)
    big_queue(ctx)


run(main)
