// The screens' own words, [简体中文, English], by key. Enumeration values,
// error codes and KPI targets come from the model instead (i18n.js, GET
// /api/v1/labels); nothing shown to a person is written anywhere else.
// Keys: app.* the frame, field.* a request field's name (also used to say
// which field an error is about), then one section per screen.
export const STRINGS = {
  // ---- the frame (app.js, signin.js, ui.js)
  'app.title': ['kefu 客服中心', 'kefu customer service'],
  'app.loading': ['加载中…', 'Loading…'],
  'app.lang_switch': ['English', '中文'],
  'app.lang_switch_title': ['切换为英文', 'Switch to Chinese'],
  'app.signout': ['退出', 'Sign out'],
  'app.live': ['实时', 'live'],
  'app.live_lost': ['实时连接中断，正在重连…', 'live updates lost, reconnecting…'],
  'app.not_found': ['没有这个页面。', 'No such page.'],
  'app.forbidden_screen': ['您的角色无权查看此页面。', 'Your role may not open this page.'],
  'app.retry': ['重试', 'Try again'],
  'app.temporary': ['系统暂时不可用，已填写的内容仍在，请稍后重试。',
    'kefu is unavailable for a moment; what you typed is kept. Try again shortly.'],
  'app.failed_load': ['无法加载：{what}', 'Could not load: {what}'],
  'app.none': ['无', 'none'],
  'app.more': ['更多', 'More'],
  'app.cancel': ['取消', 'Cancel'],
  'app.save': ['保存', 'Save'],
  'app.sending': ['提交中…', 'Sending…'],
  'app.required': ['必填', 'required'],
  'app.nav': ['导航', 'Navigation'],
  'signin.title': ['员工登录', 'Staff sign-in'],
  'signin.again': ['会话已过期，请重新登录。您填写的内容已保留。',
    'Your session ended. Sign in again; what you typed is kept.'],
  'signin.staff': ['工号', 'Staff id'],
  'signin.password': ['密码', 'Password'],
  'signin.submit': ['登录', 'Sign in'],
  'signin.wrong': ['工号或密码不正确。', 'Wrong staff id or password.'],
  'signin.other_user': ['换一个账号登录', 'Sign in as someone else'],
  'password.title': ['请设置新密码', 'Choose a new password'],
  'password.why': ['首次登录或密码已被重置，请先设置新密码。',
    'This is a first sign-in or the password was reset: choose a new one first.'],
  'password.old': ['当前密码', 'Current password'],
  'password.new': ['新密码', 'New password'],
  'password.repeat': ['再次输入新密码', 'New password again'],
  'password.mismatch': ['两次输入的新密码不一致。', 'The new passwords differ.'],
  'password.submit': ['设置密码', 'Set password'],
  'time.left': ['剩余 {d}', '{d} left'],
  'time.overdue_by': ['已超时 {d}', 'overdue by {d}'],
  'time.met': ['按时完成', 'met'],
  'time.late_by': ['超时完成（晚 {d}）', 'done late (by {d})'],
  'kpi.absent': ['无数据', 'no data'],

  // ---- field names (errors name them)
  'field.phone': ['电话', 'Phone'],
  'field.name': ['姓名', 'Name'],
  'field.kind': ['类型', 'Type'],
  'field.category': ['类别', 'Category'],
  'field.channel': ['渠道', 'Channel'],
  'field.priority': ['优先级', 'Priority'],
  'field.project': ['项目', 'Project'],
  'field.building': ['楼栋', 'Building'],
  'field.unit': ['房号', 'Unit'],
  'field.summary': ['摘要', 'Summary'],
  'field.detail': ['业主原话', "Owner's words"],
  'field.note': ['备注', 'Note'],
  'field.to': ['转给', 'To'],
  'field.reason': ['原因', 'Reason'],
  'field.comment': ['意见', 'Comment'],
  'field.amount': ['金额（元）', 'Amount (yuan)'],
  'field.promised': ['承诺日期', 'Promised date'],
  'field.type': ['审批类型', 'Request type'],
  'field.delegate': ['代理人', 'Delegate'],
  'field.from': ['开始', 'From'],
  'field.idem': ['幂等键', 'Idempotency key'],
  'field.password': ['密码', 'Password'],
  'field.staff': ['工号', 'Staff id'],

  // ---- screens: the call screen (screens/call.js)
  'nav.call': ['来电', 'Calls'],

  // ---- screens: queues and the ticket page (screens/queue.js, screens/ticket.js)
  'nav.queue': ['工单', 'Tickets'],

  // ---- screens: the approver's inbox (screens/inbox.js)
  'nav.inbox': ['审批', 'Approvals'],

  // ---- screens: the manager's dashboard (screens/dashboard.js)
  'nav.dashboard': ['看板', 'Dashboard'],

  // ---- screens: the operator's status page (screens/status.js)
  'nav.status': ['系统状态', 'Status'],
};
