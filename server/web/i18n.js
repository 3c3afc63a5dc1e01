// Labels in English and Simplified Chinese, and the formatting of dates,
// numbers and durations for each. The language is a preference kept in the
// plaint_lang cookie (docs/web.md), readable by the server for /api/v1/me.

const en = {
  app_name: 'plaint desk',
  skip: 'Skip to content',
  nav_label: 'Main',
  nav_queue: 'Queue',
  nav_new: 'New complaint',
  nav_board: 'Escalation board',
  nav_kpi: 'KPIs',
  language: 'Language',
  sign_out: 'Sign out',
  signed_in_as: 'Signed in as {name} ({role})',
  loading: 'Loading…',
  not_found_page: 'This page does not exist.',
  not_for_role: 'This page is for supervisors.',
  error_prefix: 'Error: {message}',
  offline: 'The live feed is reconnecting…',
  // sign-in
  signin_title: 'Sign in',
  signin_intro: 'Sign in to the complaint desk with your user id and password.',
  username: 'User id',
  password: 'Password',
  signin_button: 'Sign in',
  signin_failed: 'The user id or the password is wrong.',
  signin_wait: 'Too many attempts. Try again in {seconds} seconds.',
  // roles, states, events, values
  role_agent: 'agent', role_supervisor: 'supervisor', role_admin: 'admin',
  state_intake: 'intake', state_triage: 'triage', state_remediation: 'remediation',
  state_awaiting_customer: 'awaiting customer', state_follow_up: 'follow-up', state_closed: 'closed',
  state_open: 'open', state_in_progress: 'in progress', state_done: 'done',
  event_open: 'Opened', event_triage: 'Triage', event_reject: 'Reject', event_start: 'Start remediation',
  event_request_info: 'Request information', event_customer_replied: 'Customer replied', event_resolve: 'Resolve',
  event_follow_up_done: 'Follow-up done', event_reopen: 'Reopen', event_comment: 'Note', event_assign: 'Assign',
  event_escalate: 'Escalate', event_set_priority: 'Set priority', event_cancel: 'Cancel', event_complete: 'Complete',
  event_close: 'Close', event_sla_warning: 'SLA warning', event_follow_up_due: 'follow-up due',
  event_sla_recomputed: 'SLA recomputed',
  cat_product_quality: 'product quality', cat_service_attitude: 'service attitude', cat_delivery: 'delivery',
  cat_billing: 'billing', cat_technical: 'technical', cat_other: 'other',
  ch_phone: 'phone', ch_email: 'email', ch_web: 'web', ch_chat: 'chat', ch_in_person: 'in person',
  ch_social: 'social media', ch_proactive: 'proactive',
  tier_standard: 'standard', tier_gold: 'gold', tier_platinum: 'platinum',
  reason_duplicate: 'duplicate', reason_not_a_complaint: 'not a complaint', reason_spam: 'spam',
  wf_complaint: 'complaint', wf_service_request: 'service request',
  // fields
  f_id: 'Ticket', f_subject: 'Subject', f_description: 'Description', f_customer: 'Customer', f_state: 'State',
  f_owner: 'Owner', f_priority: 'Priority', f_category: 'Category', f_channel: 'Channel', f_level: 'Level',
  f_tier: 'Tier', f_version: 'Version', f_created: 'Opened', f_updated: 'Updated', f_sla: 'SLA',
  f_workflow: 'Workflow', f_reason: 'Reason', f_resolution_code: 'Resolution code', f_root_cause: 'Root cause',
  f_csat: 'Satisfaction (1–5)', f_unreachable: 'Customer unreachable', f_note: 'Note', f_from: 'Written by',
  f_handoffs: 'Hand-offs', f_reopens: 'Reopened', f_name: 'Name', f_email: 'Email', f_phone: 'Phone',
  f_closed: 'Closed', f_csat_short: 'CSAT',
  from_agent: 'agent', from_customer: 'customer',
  required_mark: '(required)',
  any: 'any', unassigned: 'unassigned', none: '—',
  level_n: 'L{n}',
  // queue
  queue_title: 'Queue',
  filters: 'Filters',
  search: 'Search',
  search_hint: 'Words in the subject or description, Chinese included.',
  mine: 'Mine only',
  breached_only: 'Breached only',
  open_only: 'Open only',
  apply: 'Apply',
  reset: 'Reset',
  more: 'More',
  no_tickets: 'No tickets match.',
  tickets_shown: '{n} tickets shown',
  tickets_shown_one: '1 ticket shown',
  live_updated: 'Ticket {id} updated',
  live_new: 'New ticket {id}',
  sla_left: '{d} left',
  sla_overdue: 'overdue {d}',
  sla_breached: 'breached',
  sla_paused: 'paused',
  sla_none: '—',
  // ticket
  ticket_title: 'Ticket {id}',
  details: 'Details',
  customer_title: 'Customer',
  other_complaints: 'Other complaints',
  no_other_complaints: 'No other complaints.',
  and_more: '… and {n} more',
  clocks: 'SLA clocks',
  first_response: 'First response',
  resolution: 'Resolution',
  clock_due: 'due {at}',
  clock_stopped: 'not working hours now: the clock stands still',
  clock_done: 'done',
  explain_show: 'Why these due times?',
  explain_loading: 'Replaying the history…',
  follow_up_clock: 'Follow-up',
  explain_cycle: '{clock}, cycle {n}',
  explain_target: 'Target {d}: row {row} of policy {name} (version {v})',
  explain_due: 'Due {at} = start {start} + {d} of working time',
  explain_due_paused: 'Due {at} = start {start} + {d} of working time + {p} paused',
  explain_more: '… {n} more segments …',
  explain_recompute: 'Recomputed by {event} #{seq}: {cause}; due {from} → {to}',
  explain_warning: 'Warning fired at {at} (event #{seq})',
  explain_breach: 'Breach fired at {at} (event #{seq}): level {level}',
  explain_ok: 'The replay of the history gives exactly these due times.',
  explain_bad: 'The replay does not match the stored ticket: {why}',
  seg_counted: 'counted', seg_off_hours: 'off hours', seg_weekend: 'weekend', seg_holiday: 'holiday',
  seg_paused: 'paused',
  st_met: 'met', st_running: 'running', st_overdue: 'overdue', st_paused: 'paused',
  'st_answered late': 'answered late', 'st_resolved late': 'resolved late',
  'st_closed unanswered': 'closed unanswered', 'st_closed unresolved': 'closed unresolved',
  st_closed: 'closed', st_reopened: 'reopened', st_replaced: 'replaced', st_waiting: 'waiting',
  'st_follow-up call due': 'follow-up call due',
  history: 'History',
  older: 'Older events',
  actions: 'Actions',
  no_actions: 'No event is accepted in this state.',
  add_note: 'Add note',
  note_label: 'Note',
  send: 'Send',
  cancel: 'Cancel',
  conflict: 'Someone else changed this ticket while you were looking at it. It has been reloaded; nothing of yours was saved.',
  conflict_change: 'v{from} → v{to}: {event} by {actor}',
  event_done: '{event}: done.',
  reload: 'Reload',
  unreachable_hint: 'Only after the follow-up was due.',
  escalation_reason: 'Reason (optional)',
  // intake
  intake_title: 'New complaint',
  lookup: 'Look up',
  customer_id: 'Customer id',
  customer_found: '{name} — {tier}, {n} complaints so far',
  customer_missing: 'No customer has this id. Add the customer:',
  create_customer: 'Add customer',
  customer_created: 'Customer {id} added.',
  sla_preview: 'SLA targets',
  sla_preview_text: 'First response due {fr} ({frd}); resolution due {res} ({resd}).',
  sla_preview_need: 'Look up the customer to see the SLA targets.',
  save_complaint: 'Log complaint',
  saving: 'Saving…',
  // board
  board_title: 'Escalation board',
  board_level: 'Level {n}',
  board_empty: 'Nothing escalated, breached or at risk.',
  board_count: '{n} tickets',
  board_count_one: '1 ticket',
  undelivered_title: 'Notifications not delivered',
  undelivered_failed: '{n} notifications failed for good and were not delivered.',
  undelivered_failed_one: '1 notification failed for good and was not delivered.',
  undelivered_late: '{n} {channel} deliveries waiting since {since}.',
  overdue: 'Overdue',
  reassign: 'Reassign',
  escalate: 'Escalate',
  updated_at: 'Updated {at}',
  why_first_response_overdue: 'first response overdue',
  why_resolution_overdue: 'resolution overdue',
  why_first_response_at_risk: 'first response at risk',
  why_resolution_at_risk: 'resolution at risk',
  why_first_response_answered_late: 'first response answered late',
  why_resolved_late: 'resolved late',
  why_escalated: 'escalated',
  // KPI
  kpi_title: 'KPIs',
  period_from: 'From',
  period_to: 'To',
  group_by: 'Group by',
  by_none: 'no grouping',
  by_owner: 'owner', by_category: 'category', by_tier: 'tier', by_team: 'team',
  show: 'Show',
  figures: 'Figures',
  overall: 'All',
  k_opened: 'Opened', k_closed: 'Closed', k_resolved: 'Resolved', k_backlog: 'Open backlog',
  k_fr_p50: 'First response p50', k_fr_p90: 'First response p90',
  k_res_p50: 'Resolution p50', k_res_p90: 'Resolution p90',
  k_on_time: 'On-time rate', k_success: 'Success rate', k_reopen: 'Reopen rate',
  k_esc2: 'Escalated to L2', k_esc3: 'Escalated to L3', k_handoffs: 'Hand-offs per ticket',
  k_csat: 'CSAT mean', k_follow_up: 'Follow-up completion',
  chart_fr_hist: 'First-response time',
  chart_res_hist: 'Resolution time',
  chart_on_time: 'On-time rate per week',
  chart_escalations: 'Escalations by level',
  chart_categories: 'Top categories',
  chart_root_causes: 'Top root causes',
  chart_csat: 'Satisfaction (CSAT) distribution',
  at_risk: 'Customers at risk',
  at_risk_none: 'No customer at risk in this period.',
  r_complaints: 'Complaints', r_low_csat: 'Low CSAT', r_breaches: 'Breaches',
  bucket_le: '≤ {d}',
  bucket_more: 'more',
  no_data: 'No data in this period.',
};

const zh = {
  app_name: 'plaint 投诉服务台',
  skip: '跳到正文',
  nav_label: '主导航',
  nav_queue: '工单队列',
  nav_new: '新建投诉',
  nav_board: '升级看板',
  nav_kpi: '关键指标',
  language: '语言',
  sign_out: '退出登录',
  signed_in_as: '当前用户：{name}（{role}）',
  loading: '加载中…',
  not_found_page: '此页面不存在。',
  not_for_role: '此页面仅供主管使用。',
  error_prefix: '错误：{message}',
  offline: '实时更新正在重新连接…',
  signin_title: '登录',
  signin_intro: '请输入用户名和密码登录投诉服务台。',
  username: '用户名',
  password: '密码',
  signin_button: '登录',
  signin_failed: '用户名或密码错误。',
  signin_wait: '尝试次数过多，请 {seconds} 秒后再试。',
  role_agent: '客服专员', role_supervisor: '主管', role_admin: '管理员',
  state_intake: '受理', state_triage: '分诊', state_remediation: '处理中',
  state_awaiting_customer: '等待客户', state_follow_up: '回访', state_closed: '已关闭',
  state_open: '待处理', state_in_progress: '进行中', state_done: '已完成',
  event_open: '创建', event_triage: '分诊', event_reject: '驳回', event_start: '开始处理',
  event_request_info: '向客户索取信息', event_customer_replied: '客户已回复', event_resolve: '解决',
  event_follow_up_done: '完成回访', event_reopen: '重新打开', event_comment: '备注', event_assign: '指派',
  event_escalate: '升级', event_set_priority: '设置优先级', event_cancel: '取消', event_complete: '完成',
  event_close: '关闭', event_sla_warning: 'SLA 预警', event_follow_up_due: '回访到期',
  event_sla_recomputed: 'SLA 已重算',
  cat_product_quality: '产品质量', cat_service_attitude: '服务态度', cat_delivery: '物流配送',
  cat_billing: '账单', cat_technical: '技术问题', cat_other: '其他',
  ch_phone: '电话', ch_email: '邮件', ch_web: '网页', ch_chat: '在线聊天', ch_in_person: '到店',
  ch_social: '社交媒体', ch_proactive: '主动发现',
  tier_standard: '普通', tier_gold: '金卡', tier_platinum: '白金',
  reason_duplicate: '重复', reason_not_a_complaint: '非投诉', reason_spam: '垃圾信息',
  wf_complaint: '投诉', wf_service_request: '服务请求',
  f_id: '工单', f_subject: '主题', f_description: '描述', f_customer: '客户', f_state: '状态',
  f_owner: '负责人', f_priority: '优先级', f_category: '类别', f_channel: '渠道', f_level: '级别',
  f_tier: '客户等级', f_version: '版本', f_created: '创建时间', f_updated: '更新时间', f_sla: 'SLA',
  f_workflow: '流程', f_reason: '原因', f_resolution_code: '解决代码', f_root_cause: '根本原因',
  f_csat: '满意度（1–5）', f_unreachable: '无法联系客户', f_note: '备注', f_from: '记录来源',
  f_handoffs: '转交次数', f_reopens: '重开次数', f_name: '名称', f_email: '邮箱', f_phone: '电话',
  f_closed: '关闭时间', f_csat_short: '满意度',
  from_agent: '客服', from_customer: '客户',
  required_mark: '（必填）',
  any: '全部', unassigned: '未指派', none: '—',
  level_n: '{n}级',
  queue_title: '工单队列',
  filters: '筛选',
  search: '搜索',
  search_hint: '主题或描述中的词语，支持中文。',
  mine: '只看我的',
  breached_only: '只看已超时',
  open_only: '只看未关闭',
  apply: '应用',
  reset: '重置',
  more: '更多',
  no_tickets: '没有符合条件的工单。',
  tickets_shown: '显示 {n} 个工单',
  live_updated: '工单 {id} 已更新',
  live_new: '新工单 {id}',
  sla_left: '剩余{d}',
  sla_overdue: '超时{d}',
  sla_breached: '已超时',
  sla_paused: '已暂停',
  sla_none: '—',
  ticket_title: '工单 {id}',
  details: '详情',
  customer_title: '客户',
  other_complaints: '其他投诉',
  no_other_complaints: '没有其他投诉。',
  and_more: '……另有 {n} 个',
  clocks: 'SLA 计时',
  first_response: '首次响应',
  resolution: '解决',
  clock_due: '截止 {at}',
  clock_stopped: '当前非工作时间，计时暂停',
  clock_done: '已完成',
  explain_show: '为什么是这些截止时间？',
  explain_loading: '正在重放工单历史…',
  follow_up_clock: '回访',
  explain_cycle: '{clock}，第 {n} 轮',
  explain_target: '目标 {d}：策略 {name}（第 {v} 版）的 {row} 行',
  explain_due: '截止 {at} = 开始 {start} + {d} 工作时间',
  explain_due_paused: '截止 {at} = 开始 {start} + {d} 工作时间 + {p} 暂停',
  explain_more: '……另有 {n} 段……',
  explain_recompute: '由 {event} #{seq} 重算：{cause}；截止 {from} → {to}',
  explain_warning: '预警于 {at} 触发（事件 #{seq}）',
  explain_breach: '超时于 {at} 触发（事件 #{seq}）：升至 {level} 级',
  explain_ok: '重放历史得到的截止时间与记录完全一致。',
  explain_bad: '重放结果与记录不一致：{why}',
  seg_counted: '计时', seg_off_hours: '非工作时间', seg_weekend: '周末', seg_holiday: '节假日',
  seg_paused: '暂停',
  st_met: '达标', st_running: '计时中', st_overdue: '已超时', st_paused: '已暂停',
  'st_answered late': '响应超时', 'st_resolved late': '解决超时',
  'st_closed unanswered': '关闭时未响应', 'st_closed unresolved': '关闭时未解决',
  st_closed: '已关闭', st_reopened: '已重开', st_replaced: '已替换', st_waiting: '等待中',
  'st_follow-up call due': '回访到期',
  history: '历史记录',
  older: '更早的记录',
  actions: '操作',
  no_actions: '当前状态不接受任何操作。',
  add_note: '添加备注',
  note_label: '备注',
  send: '提交',
  cancel: '取消',
  conflict: '在您查看期间，其他人修改了此工单。工单已重新加载，您的操作未保存。',
  conflict_change: 'v{from} → v{to}：{actor} {event}',
  event_done: '{event}：已完成。',
  reload: '重新加载',
  unreachable_hint: '仅在回访到期后可用。',
  escalation_reason: '原因（可选）',
  intake_title: '新建投诉',
  lookup: '查找',
  customer_id: '客户编号',
  customer_found: '{name} — {tier}，已有 {n} 个投诉',
  customer_missing: '没有此编号的客户。添加客户：',
  create_customer: '添加客户',
  customer_created: '客户 {id} 已添加。',
  sla_preview: 'SLA 目标',
  sla_preview_text: '首次响应截止 {fr}（{frd}）；解决截止 {res}（{resd}）。',
  sla_preview_need: '查找客户后即可看到 SLA 目标。',
  save_complaint: '登记投诉',
  saving: '保存中…',
  board_title: '升级看板',
  board_level: '{n}级',
  board_empty: '没有已升级、已超时或有风险的工单。',
  board_count: '{n} 个工单',
  undelivered_title: '未送达的通知',
  undelivered_failed: '{n} 条通知最终发送失败，未送达。',
  undelivered_late: '{n} 条{channel}投递自 {since} 起等待中。',
  overdue: '超时',
  reassign: '改派',
  escalate: '升级',
  updated_at: '更新于 {at}',
  why_first_response_overdue: '首次响应已超时',
  why_resolution_overdue: '解决已超时',
  why_first_response_at_risk: '首次响应有超时风险',
  why_resolution_at_risk: '解决有超时风险',
  why_first_response_answered_late: '首次响应迟于时限',
  why_resolved_late: '解决迟于时限',
  why_escalated: '已升级',
  kpi_title: '关键指标',
  period_from: '开始日期',
  period_to: '结束日期',
  group_by: '分组',
  by_none: '不分组',
  by_owner: '负责人', by_category: '类别', by_tier: '客户等级', by_team: '团队',
  show: '显示',
  figures: '指标数据',
  overall: '全部',
  k_opened: '新建', k_closed: '关闭', k_resolved: '解决', k_backlog: '未结积压',
  k_fr_p50: '首次响应 p50', k_fr_p90: '首次响应 p90',
  k_res_p50: '解决时长 p50', k_res_p90: '解决时长 p90',
  k_on_time: '按时完成率', k_success: '成功率', k_reopen: '重开率',
  k_esc2: '升级至二级', k_esc3: '升级至三级', k_handoffs: '平均转交次数',
  k_csat: '平均满意度', k_follow_up: '回访完成率',
  chart_fr_hist: '首次响应时长分布',
  chart_res_hist: '解决时长分布',
  chart_on_time: '每周按时完成率',
  chart_escalations: '各级升级数量',
  chart_categories: '主要投诉类别',
  chart_root_causes: '主要根本原因',
  chart_csat: '满意度分布',
  at_risk: '流失风险客户',
  at_risk_none: '本期没有流失风险客户。',
  r_complaints: '投诉数', r_low_csat: '低满意度', r_breaches: '超时次数',
  bucket_le: '≤ {d}',
  bucket_more: '更长',
  no_data: '本期没有数据。',
};

const tables = {en, zh};
let lang = 'en';

export function cookie_lang() {
  const m = /(?:^|;\s*)plaint_lang=(en|zh)(?:;|$)/.exec(document.cookie);
  return m ? m[1] : null;
}

export function browser_lang() {
  const list = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  return /^zh/i.test(list[0] || '') ? 'zh' : 'en';
}

export function set_lang(l) {
  lang = l === 'zh' ? 'zh' : 'en';
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en-GB';
}

// Remembers the choice for the pages and for the server (not HttpOnly: a
// preference, not a secret).
export function save_lang(l) {
  set_lang(l);
  document.cookie = `plaint_lang=${lang}; Path=/; SameSite=Strict; Max-Age=31536000`;
}

export function get_lang() {
  return lang;
}

export function locale() {
  return lang === 'zh' ? 'zh-CN' : 'en-GB';
}

// t('ticket_title', {id: 3}); an unknown key shows as itself.
export function t(key, params) {
  const raw = tables[lang][key] ?? en[key] ?? key;
  if (!params) return raw;
  return raw.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

// t() of key_one when n is 1 and the language has that form.
export function tn(key, n) {
  const one = `${key}_one`;
  return n === 1 && one in tables[lang] ? t(one, {n}) : t(key, {n});
}

// A value's label (state, event, category, …) or the value itself.
export function label(prefix, value) {
  if (value === null || value === undefined || value === '') return t('none');
  const key = `${prefix}_${value}`;
  return key in tables[lang] || key in en ? t(key) : String(value);
}

// Intl formatters are costly to make (tens of microseconds each): one per
// locale and options, kept.
const formatters = new Map();
function formatter(kind, opts) {
  const key = `${kind}|${locale()}|${JSON.stringify(opts || {})}`;
  let f = formatters.get(key);
  if (!f) {
    f = kind === 'date' ? new Intl.DateTimeFormat(locale(), opts) : new Intl.NumberFormat(locale(), opts);
    formatters.set(key, f);
  }
  return f;
}


// The formats every list shows (a time to the minute, a whole number) are
// written here rather than by Intl: the first Intl formatter made in a tab
// loads the locale's data, some 50 ms before a queue can be drawn. Both
// match what Intl writes for en-GB and zh-CN ("4 Dec 2026, 01:05",
// "2026年12月4日 01:05", "1,234").
const months_en = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n) => (n < 10 ? `0${n}` : String(n));

function default_time_text(d) {
  const hm = `${two(d.getHours())}:${two(d.getMinutes())}`;
  if (lang === 'zh') return `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日 ${hm}`;
  return `${d.getDate()} ${months_en[d.getMonth()]} ${d.getFullYear()}, ${hm}`;
}

function whole_number_text(n) {
  const digits = String(Math.abs(n));
  let out = '';
  for (let i = 0; i < digits.length; ++i) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? `-${out}` : out;
}

export function fmt_time(iso, opts) {
  if (!iso) return t('none');
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  if (!opts) return default_time_text(d);
  return formatter('date', opts).format(d);
}

export function fmt_date(iso) {
  return fmt_time(iso, {dateStyle: 'medium'});
}

export function fmt_number(n, opts) {
  if (n === null || n === undefined || Number.isNaN(n)) return t('none');
  if (!opts && Number.isSafeInteger(n)) return whole_number_text(n);
  return formatter('number', opts).format(n);
}

export function fmt_percent(r) {
  if (r === null || r === undefined) return t('none');
  return fmt_number(r, {style: 'percent', maximumFractionDigits: 1});
}

const units = {
  en: [['d', 86400, ' d'], ['h', 3600, ' h'], ['m', 60, ' min'], ['s', 1, ' s']],
  zh: [['d', 86400, '天'], ['h', 3600, '小时'], ['m', 60, '分'], ['s', 1, '秒']],
};

// "2 h 5 min" / "2小时5分": the two largest units, of a magnitude in seconds.
export function fmt_duration(seconds) {
  if (seconds === null || seconds === undefined) return t('none');
  let rest = Math.abs(Math.round(seconds));
  const parts = [];
  const nf = {format: whole_number_text};
  for (const [, size, unit] of units[lang]) {
    if (parts.length === 2) break;
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || (parts.length > 0)) {
      if (n > 0) parts.push(nf.format(n) + unit);
      else break;
    }
  }
  if (parts.length === 0) return nf.format(0) + units[lang][3][2];
  return parts.join(lang === 'zh' ? '' : ' ');
}

// "2 h 5 min left" / "overdue 5 min" for a signed number of seconds.
export function fmt_left(seconds) {
  if (seconds === null || seconds === undefined) return t('sla_none');
  return seconds >= 0 ? t('sla_left', {d: fmt_duration(seconds)}) : t('sla_overdue', {d: fmt_duration(-seconds)});
}
