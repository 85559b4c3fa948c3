"""kefu — the manager's dashboard and the operator's status page in a real
browser (test_dashboard.sh): every figure the dashboard shows (numerator,
denominator and value of each KPI, in total and per group) equals
`kefu report --json` for the same month; the 12-month chart has a point
slot per month and series, gaps where a month has no data, and the
targets and baselines of the model; the watchlist lists what `kefu
watchlist` does; the status page shows every daemon of the store's
daemon_status, all up, and refreshes; an agent is refused it."""
import json
import os
import urllib.request

from console import DESK, PHONE, check, kefu_json, note, psql, run, timing, IT_DIR
import console

MANAGER = "cs.wang"     # head of customer service
ADMIN = "admin"
AGENT = "agent.li"

# The data attributes of a figure cell, per KPI, and the reply's field each holds.
ATTRS = {
    "tickets": [("num", None)],
    "first_response_24h": [("num", "num"), ("den", "den"), ("percent", "percent"),
                           ("pending", "pending")],
    "resolved_in_month": [("num", "num"), ("den", "den"), ("percent", "percent")],
    "satisfaction": [("num", "num"), ("den", "den"), ("percent", "percent")],
    "nps": [("den", "den"), ("score", "score"), ("promoters", "promoters"),
            ("passives", "passives"), ("detractors", "detractors")],
    "approval_cycle": [("den", "den"), ("median", "median_s"), ("p90", "p90_s")],
    "escalations": [("num", "num"), ("den", "den"), ("per100", "per_100")],
}

READ_JS = """
const out = {};
for (const el of document.querySelectorAll(arguments[0] + ' [data-kpi]'))
  out[el.dataset.kpi] = Object.assign({text: el.querySelector('.kpi-value') ?
    el.querySelector('.kpi-value').textContent : el.textContent}, el.dataset);
return out;"""

GROUPS_JS = """
const out = {};
for (const tr of document.querySelectorAll('.breakdown tr[data-group]')) {
  const cells = {};
  for (const el of tr.querySelectorAll('[data-kpi]')) cells[el.dataset.kpi] = Object.assign({}, el.dataset);
  out[tr.dataset.group] = cells;
}
return out;"""


def expected_value(fig, kpi, field):
    """The reply's value that a cell's attribute shows."""
    if kpi == "tickets":
        return fig["tickets"]
    src = fig[kpi]["all"] if kpi == "escalations" else fig[kpi]
    return src.get(field)


def same(shown, want):
    """A data attribute's text against the reply's number (absent: None)."""
    if want is None:
        return shown is None
    return shown is not None and float(shown) == float(want)


def compare(where, shown, fig):
    """Every figure of fig (a `figures` map of the reply) against the cells
    read from the page."""
    for kpi, attrs in ATTRS.items():
        check(kpi in shown, "%s: no %s figure on the page (%s)" % (where, kpi, sorted(shown)))
        for attr, field in attrs:
            want = expected_value(fig, kpi, field)
            got = shown[kpi].get(attr)
            check(same(got, want), "%s: %s %s is %r on the page, %r in kefu report" % (
                where, kpi, attr, got, want))


def check_words(shown, fig):
    """The values as people read them: one decimal and %, or 无数据."""
    for kpi in ("first_response_24h", "resolved_in_month", "satisfaction"):
        p = fig[kpi].get("percent")
        want = "无数据" if p is None else "%.1f%%" % p
        check(shown[kpi]["text"].strip() == want, "%s shows %r, expected %r" % (
            kpi, shown[kpi]["text"], want))
    score = fig["nps"].get("score")
    want = "无数据" if score is None else "%.1f" % score
    check(shown["nps"]["text"].strip() == want, "NPS shows %r, expected %r" % (shown["nps"]["text"], want))


def check_cycles(b, ap):
    """The approval cycle per step and per approver, as kefu report has it."""
    check(ap["den"] >= 1, "the month has a completed approval: %s" % ap)
    for kind, key in (("label", "steps"), ("staff", "approvers")):
        rows = b.js("""return Array.from(document.querySelectorAll(
            'table[data-cycles="' + arguments[0] + '"] tbody tr'), tr => Object.assign({}, tr.dataset));""", kind)
        want = ap.get(key) or []
        check(len(rows) == len(want) and len(want) >= 1, "%s: %s on the page, %s in kefu report" % (key, rows, want))
        for row, w in zip(rows, want):
            check(row["key"] == w[kind] and same(row["den"], w["den"]) and
                  same(row.get("median"), w.get("median_s")) and same(row.get("p90"), w.get("p90_s")),
                  "%s: %s on the page, %s in kefu report" % (key, row, w))


def report(month, *extra):
    return kefu_json(MANAGER, "report", "--month", month, *extra)


def wait_month(b, month, by):
    b.wait('.dash-figures[data-ready="true"][data-month="%s"][data-by="%s"]' % (month, by))
    b.wait('.breakdown[data-by="%s"]' % by)


def check_groups(b, rep, by):
    groups = b.js(GROUPS_JS)
    want = {("" if g.get("key") is None else g["key"]): g for g in rep.get("groups") or []}
    check(set(groups) == set(want), "by %s: groups %s on the page, %s in kefu report" % (
        by, sorted(groups), sorted(want)))
    for key, g in want.items():
        compare("group %s=%s" % (by, key or "(none)"), groups[key], g)
    omitted = rep.get("groups_omitted") or 0
    if omitted:
        b.wait("[data-omitted='%d']" % omitted)


def check_dept_names(b):
    """Each department's row is named by its Chinese name (the id on hover
    and in data-group, which the figures were compared by)."""
    names = dict(line.split("|", 1) for line in
                 psql("SELECT id || '|' || name_zh FROM department").splitlines())
    first = b.wait(".breakdown tr[data-group] th .dept").get_attribute("data-dept")
    b.wait(".breakdown tr[data-group='%s'] th .dept" % first, names.get(first, "?"))   # loaded
    shown = b.js("""return Array.from(document.querySelectorAll('.breakdown tr[data-group] th'),
        th => [th.parentNode.dataset.group, th.textContent.trim(),
               th.querySelector('.dept') ? th.querySelector('.dept').title : null]);""")
    for key, text, title in shown:
        if key:
            check(text == names.get(key) and title == key, "department %s shown as %s (title %s), "
                  "the store names it %s" % (key, text, title, names.get(key)))
    check(any(key for key, _, _ in shown), "no department's row: %s" % shown)
    b.js("document.querySelector('.breakdown').scrollIntoView();")
    b.shot("breakdown-department")


def check_chart(b, month, targets):
    rep = report(month, "--chart", os.path.join(IT_DIR, "dash-chart.svg"))
    series = rep["series"]
    check(len(series) == 12, "kefu report's series has 12 months: %d" % len(series))
    b.wait("svg.kpi-chart[data-months='12']")
    for kpi in ("satisfaction", "resolved_in_month"):
        pts = b.js("""return Array.from(document.querySelectorAll(
            'svg.kpi-chart g[data-series="' + arguments[0] + '"] g.pt'), g => ({month: g.dataset.month,
            percent: g.dataset.percent, num: g.dataset.num, den: g.dataset.den,
            dot: !!g.querySelector('circle')}));""", kpi)
        check(len(pts) == 12, "%s: %d points on the chart, expected 12" % (kpi, len(pts)))
        for pt, m in zip(pts, series):
            want = m[kpi].get("percent")
            check(pt["month"] == m["month"] and same(pt["percent"], want) and pt["dot"] == (want is not None),
                  "%s %s on the chart: %s; kefu report: %s" % (kpi, m["month"], pt, m[kpi]))
        gaps = [m["month"] for m in series if m[kpi].get("percent") is None]
        lines = len(b.all('svg.kpi-chart g[data-series="%s"] polyline' % kpi))
        check(gaps and lines >= 2, "%s: absent months %s are gaps (%d lines drawn)" % (kpi, gaps, lines))
        tg = [x for x in targets if x["kpi"] == kpi][0]
        for ref in ("target", "baseline"):
            el = b.wait('svg.kpi-chart line[data-ref="%s"][data-kpi="%s"]' % (ref, kpi), visible=False)
            check(int(el.get_attribute("data-percent")) == tg[ref] and el.get_attribute("stroke-dasharray"),
                  "%s's %s line at %s%%, dashed or dotted" % (kpi, ref, tg[ref]))
    title = b.text("svg.kpi-chart > text")
    check("满意度" in title and series[0]["month"] in title, "the chart's title: %r" % title)
    note("the chart: 12 months of both series as kefu report has them, gaps, targets and baselines")


def check_watchlist(b):
    want = kefu_json(MANAGER, "watchlist", "--limit", "5")
    b.wait('.watchlist[data-ready="true"]')
    shown = b.js("""const get = (l, a) => Array.from(document.querySelectorAll(
        '.watchlist [data-list="' + l + '"] li'), li => li.dataset[a]);
        return {approvals: get('approvals', 'ticket'), owners: get('owners', 'phone'),
                promoters: get('promoters', 'phone')};""")
    check(shown["approvals"] == [a["ticket"] for a in want["approvals_at_risk"]],
          "approvals at risk: %s on the page, %s in kefu watchlist" % (shown["approvals"], want))
    check(shown["owners"] == [o["phone"] for o in want["owners_at_risk"]],
          "owners at risk: %s on the page; kefu watchlist: %s" % (shown["owners"], want))
    check(shown["promoters"] == [p["phone"] for p in want["promoters"]],
          "promoters: %s on the page; kefu watchlist: %s" % (shown["promoters"], want))
    check("KF-2026-700003" in shown["approvals"], "the fixture's approval at risk is listed")
    check("13922220001" in shown["owners"] and "13922220002" in shown["promoters"],
          "the fixture's owner at risk and promoter are listed: %s" % shown)
    owner = b.text('.watchlist [data-list="owners"] li[data-phone="13922220001"]')
    check("重复投诉" in owner and "满意度低" in owner, "the owner's reasons as labels: %r" % owner)
    approval = b.text('.watchlist [data-list="approvals"] li[data-ticket="KF-2026-700003"]')
    check("¥12,800.00" in approval and "fin.lin" in approval, "the approval at risk: %r" % approval)
    for flag, lst in (("approvals_more", "approvals"), ("owners_more", "owners"),
                      ("promoters_more", "promoters")):
        more = b.all('.watchlist [data-list="%s"] [data-more]' % lst)
        check(bool(more) == want[flag], "%s: 'more' said %s, kefu says %s" % (lst, bool(more), want[flag]))
    note("the watchlist as kefu watchlist lists it")


def dashboard(ctx, month, targets):
    b = ctx.browser("manager", DESK)
    ctx.expect_console("/api/v1/session")   # the 401 of the page before sign-in
    b.open()
    b.signin(MANAGER)
    check("看板" in [a.text for a in b.all("header nav a")], "a head has the dashboard in the navigation")
    # The load a manager sees: a fresh page straight onto the dashboard.
    b.open("dashboard?month=%s&by=project" % month)
    wait_month(b, month, "project")
    timing("dashboard_load", b.js("return performance.now();"))
    rep = report(month, "--by", "project")
    shown = b.js(READ_JS, ".kpis")
    compare("total", shown, rep["total"])
    check_words(shown, rep["total"])
    check(rep["total"]["tickets"] >= 6, "the month has the fixture's tickets: %s" % rep["total"]["tickets"])
    check(not rep["period"]["complete"], "this month is not over")
    b.wait('.period[data-complete="false"]', "临时")
    check(not b.all(".month-picker a[rel=next]"), "no month after this one to go to")
    b.shot("dashboard")
    check_groups(b, rep, "project")
    check_cycles(b, rep["total"]["approval_cycle"])
    note("%s: every KPI and every project as kefu report says" % month)

    b.js("document.querySelector('svg.kpi-chart').scrollIntoView();")
    check_chart(b, month, targets)
    b.shot("chart")
    check_watchlist(b)
    b.js("document.querySelector('.watchlist').scrollIntoView();")
    b.shot("watchlist")

    # The breakdown by department and by kind, from the tabs.
    for by in ("department", "kind"):
        b.click(".breakdown .tabs a", {"department": "按部门", "kind": "按类型"}[by])
        wait_month(b, month, by)
        rep = report(month, "--by", by)
        check_groups(b, rep, by)
        compare("total by %s" % by, b.js(READ_JS, ".kpis"), rep["total"])
        if by == "department":
            check_dept_names(b)
    b.js("document.querySelector('.breakdown').scrollIntoView();")
    b.shot("breakdown-kind")
    note("the breakdowns by department and kind as kefu report says")

    # The month before: complete, its own figures.
    b.js("window.scrollTo(0, 0);")
    b.click(".month-picker a[rel=prev]")
    y, m = map(int, month.split("-"))
    prev = "%04d-%02d" % (y - (m == 1), 12 if m == 1 else m - 1)
    wait_month(b, prev, "kind")
    rep = report(prev, "--by", "kind")
    compare("total %s" % prev, b.js(READ_JS, ".kpis"), rep["total"])
    check_groups(b, rep, "kind")
    b.wait('.period[data-complete="true"]')
    b.wait(".month-picker a[rel=next]")
    b.shot("previous-month")

    # English, and a phone.
    b.button("English")
    b.wait(".kpi-name", "Satisfaction")
    b.shot("dashboard-en")
    b.button("中文")
    b.wait(".kpi-name", "满意度")
    p = ctx.browser("manager-phone", PHONE)
    p.open()
    p.signin(MANAGER)
    p.go("dashboard?month=%s&by=project" % month)
    wait_month(p, month, "project")
    p.shot("dashboard-phone")
    note("the previous month, English and a phone")


def status(ctx):
    a = ctx.browser("admin", DESK)
    a.open()
    a.signin(ADMIN)
    a.go("status")
    a.wait("table.daemons tbody tr")
    want = sorted(psql("SELECT name || '|' || state FROM daemon_status").split("\n"))
    rows = lambda: sorted(a.js("""return Array.from(document.querySelectorAll(
        'table.daemons tbody tr'), tr => tr.dataset.name + '|' + tr.dataset.state);"""))
    check(rows() == want, "the status page lists %s; daemon_status has %s" % (rows(), want))
    check(all(r.endswith("|up") for r in want) and len(want) >= 5,
          "every daemon of the test is up: %s" % want)
    names = set(r.split("|")[0] for r in want)
    for d in ("intake", "ticket-router", "approval", "survey", "gateway"):
        check(any(d in n for n in names), "%s is on the status page: %s" % (d, sorted(names)))
    a.wait(".summary[data-down='0'][data-count='%d']" % len(want))
    check(len(a.all("table.daemons .state.up")) == len(want), "each daemon is marked up")
    a.shot("status")

    # An instance whose heartbeat stopped an hour ago, and one stopped
    # cleanly: the next refresh shows the first down, the second stopped.
    psql("""INSERT INTO daemon_instance (instance, name, host, pid, version, started_at, last_seen,
                heartbeat_ms, errors, last_error, last_error_at, stopped_at)
            VALUES ('gone-host:4242', 'intake', 'gone-host', 4242, '0.0.9', now() - interval '2 days',
                    now() - interval '1 hour', 5000, 3, 'store unreachable', now() - interval '1 hour', NULL),
                   ('old-host:77', 'notifier', 'old-host', 77, '0.0.9', now() - interval '3 days',
                    now() - interval '2 days', 5000, 0, NULL, NULL, now() - interval '2 days')""")
    row = a.wait("table.daemons tr[data-instance='gone-host:4242']", timeout=20)
    check(row.get_attribute("data-state") == "down" and ("DOWN" in row.text or "宕机" in row.text),
          "the silent instance is marked down: %r" % row.text)
    check("store unreachable" in row.text, "its last error is shown: %r" % row.text)
    a.wait("table.daemons tr[data-instance='old-host:77'] .state.stopped")
    a.wait(".summary[data-down='1'].error")
    want = sorted(psql("SELECT name || '|' || state FROM daemon_status").split("\n"))
    check(rows() == want, "after the refresh the page lists %s; daemon_status %s" % (rows(), want))
    a.js("document.querySelector('tr[data-instance=\"gone-host:4242\"]').scrollIntoView();")
    a.shot("status-down")
    note("the status page: %d daemons, all up, as daemon_status says; it refreshes and marks "
         "a silent instance down" % (len(want) - 2))

    g = ctx.browser("agent", DESK)
    g.open()
    g.signin(AGENT)
    check("系统状态" not in [x.text for x in g.all("header nav a")], "no status page for an agent")
    g.go("status")
    g.wait("[role=alert]", "您的角色无权查看此页面")
    g.shot("status-refused")
    res = g.api("GET", "/api/v1/status")
    check(res["status"] == 403, "GET /api/v1/status as an agent: %s" % res)
    ctx.expect_console("/api/v1/status")
    note("an agent is refused the status page and GET /api/v1/status")


def main(ctx):
    with urllib.request.urlopen(console.URL + "/api/v1/labels") as r:
        targets = json.loads(r.read())["targets"]
    check({t["kpi"] for t in targets} == {"satisfaction", "resolved_in_month"},
          "the labels carry the targets: %s" % targets)
    month = psql("SELECT to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')")
    dashboard(ctx, month, targets)
    status(ctx)


run(main)
