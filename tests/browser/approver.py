"""kefu — the approver's inbox on a phone (test_approver.sh): eng.sun, an
approver of the fixture's refund policy (t-race: eng.sun or eng.liu, then
finance), has the inbox open at 390x844 when agent.li opens a request: the
step appears live with its amount, time left and trail; a rejection without
a comment is refused before anything is sent; approving with a comment takes
one tap and the step is decided in the store; a delegate is set with the
staff picker for a period and cleared again, each checked in the store."""
import time

from console import PHONE, check, cert, note, psql, run, sh, BUILD
from staff_forms import in_english, set_value, tap

KEFU = "%s/services/cli/kefu" % BUILD


def as_agent(*args):
    return sh(KEFU, *args, env={"KEFU_CERT": cert("agent.li")}).strip()


def step_of(request, who):
    return psql("SELECT coalesce(outcome, '-') || ':' || coalesce(decided_by, '-') FROM approval_step "
                "WHERE request_id = :'p1' AND approver = :'p2'", request, who)


def decide(b, request):
    card = "li.step-card[data-request='%s']" % request
    # Reject without a comment: refused on the phone, nothing sent.
    tap(b, card + " button.reject")
    b.wait(card + " .error", "驳回必须填写意见")
    b.wait(card + " .field.bad textarea[name=comment]")
    check(step_of(request, "eng.sun") == "-:-", "nothing was sent: %s" % step_of(request, "eng.sun"))
    b.shot("reject-needs-comment")
    # Approve: the comment, then one tap.
    b.type(card + " textarea[name=comment]", "同意，按实际损失退款")
    tap(b, card + " button.approve")
    b.wait_gone(card)
    check(step_of(request, "eng.sun") == "approve:eng.sun",
          "the step is decided in the store: %s" % step_of(request, "eng.sun"))
    got = psql("SELECT comment FROM approval_step WHERE request_id = :'p1' AND decided_by = 'eng.sun'",
               request)
    check(got == "同意，按实际损失退款", "the comment is in the store: %r" % got)
    b.wait("p.empty", "暂无待审批事项")
    b.shot("approved")


def delegate(ctx, b, promised):
    b.type("input[name=delegate]", "林")
    tap(b, "button.pick[data-staff='fin.lin']")
    b.wait(".delegate .picked", "林峰")
    set_value(b, "input[name=to]", "")
    tap(b, "button.set-delegate")
    b.wait(".delegate .error", "请选择开始和结束日期")
    b.shot("delegate-needs-dates")
    last = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 86400))
    set_value(b, "input[name=to]", last)
    tap(b, "button.set-delegate")
    b.wait(".current-delegate", "林峰")
    got = psql("SELECT delegate_id || ':' || (upper(valid) > now() + interval '6 days') "
               "FROM approval_delegate WHERE staff_id = 'eng.sun' AND cleared_at IS NULL")
    check(got == "fin.lin:true", "the delegation is in the store: %s" % got)
    b.shot("delegate-set")
    # The delegate's own inbox (another phone) shows eng.sun's new step,
    # on eng.sun's behalf.
    other = as_agent("submit", "--kind", "repair", "--category", "leak", "--channel", "phone",
                     "--project", "HZ-XH", "--building", "2", "--unit", "802",
                     "--phone", "13900003002", "--summary", "二号楼802顶棚渗水").split()[0]
    request = as_agent("approval", "request", other, "--type", "refund", "--amount", "66.6",
                       "--reason", "补偿上门误工", "--promised", promised)
    lin = ctx.browser("lin", PHONE)
    lin.open("inbox")
    lin.signin("fin.lin")
    lin.go("inbox")
    card = "li.step-card[data-request='%s']" % request
    lin.wait(card + " .on-behalf", "eng.sun")
    lin.wait(card + " .amount", "¥66.60")
    lin.js("arguments[0].scrollIntoView({block: 'start'}); scrollBy(0, -110);", lin.wait(card))
    lin.shot("delegate-sees-step")
    tap(b, "button.clear-delegate")
    b.wait("p.no-delegate")
    got = psql("SELECT count(*) FROM approval_delegate WHERE staff_id = 'eng.sun' AND cleared_at IS NULL")
    check(got == "0", "the delegation is cleared in the store: %s" % got)
    b.shot("delegate-cleared")
    # Cleared: the step leaves the delegate's inbox when it reloads.
    lin.go("queue")
    lin.go("inbox")
    lin.wait("ul.steps-list")
    lin.wait_gone(card)


def main(ctx):
    ticket = as_agent("submit", "--kind", "complaint", "--category", "leak", "--channel", "phone",
                      "--project", "HZ-XH", "--building", "2", "--unit", "801",
                      "--phone", "13900003001", "--summary", "二号楼801渗漏赔偿").split()[0]
    b = ctx.browser("sun", PHONE)
    b.open("inbox")
    ctx.expect_console("/api/v1/session")   # the 401 before signing in
    b.signin("eng.sun")
    b.go("inbox")
    b.wait("p.empty", "暂无待审批事项")
    b.wait(".live-dot.live")
    b.shot("inbox-empty")

    promised = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 4 * 86400))
    request = as_agent("approval", "request", ticket, "--type", "refund", "--amount", "880",
                       "--reason", "渗漏损坏地板，退还部分物业费", "--promised", promised)
    note("agent.li opened request %s on %s" % (request, ticket))
    card = "li.step-card[data-request='%s']" % request
    b.wait(card, timeout=20)
    b.wait(card + " .amount", "¥880.00")
    b.wait(card + " .countdown", "剩余")
    b.wait(card, "二号楼801渗漏赔偿")
    b.wait(card, promised)
    b.shot("step-arrived")
    width = b.js("return document.documentElement.scrollWidth;")
    check(width <= 390, "the inbox fits the phone's width: %s px" % width)
    tap(b, card + " button.trail-toggle")
    b.wait(card + " .approval-trail li.step", "eng.liu")
    b.shot("trail")

    decide(b, request)
    delegate(ctx, b, promised)
    # The inbox in English.
    in_english(b, "inbox-english", ".delegate h2", "Delegate while away", "休假代理",
               [(".inbox .count", "waiting for me")])


run(main)
