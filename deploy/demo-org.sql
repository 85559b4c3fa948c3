-- kefu demo organisation: two projects, the departments of a developer's
-- customer-service set-up, their staff, routing rules and SLA policies.
-- Idempotent: loading it again changes nothing.
BEGIN;

INSERT INTO department (id, name, name_zh) VALUES
    ('cs', 'Customer-service centre', '客服中心'),
    ('eng', 'Engineering', '工程部'),
    ('audit', 'Cost audit', '审算部'),
    ('finance', 'Finance', '财务部'),
    ('property', 'Property management', '物业'),
    ('sales', 'Sales', '销售部'),
    ('exec', 'Executive office', '总经理办公室')
ON CONFLICT (id) DO NOTHING;

-- Managers first, so manager_id always points at an existing row.
INSERT INTO staff (id, name, department_id, role, manager_id, email, lang) VALUES
    ('gm.zheng',   '郑国强', 'exec',     'gm',      NULL,        'gm.zheng@kefu.example',   'zh'),
    ('vp.zhou',    '周明',   'exec',     'vp',      'gm.zheng',  'vp.zhou@kefu.example',    'zh'),
    ('vp.qian',    '钱军',   'exec',     'vp',      'gm.zheng',  'vp.qian@kefu.example',    'zh'),
    ('gm.hz',      '周建国', 'exec',     'gm',      'gm.zheng',  'gm.hz@kefu.example',      'zh'),
    ('gm.sh',      '吴海',   'exec',     'gm',      'gm.zheng',  'gm.sh@kefu.example',      'zh'),
    ('cs.wang',    '王芳',   'cs',       'head',    'vp.zhou',   'cs.wang@kefu.example',    'zh'),
    ('agent.li',   '李娜',   'cs',       'agent',   'cs.wang',   'agent.li@kefu.example',   'zh'),
    ('agent.chen', '陈静',   'cs',       'agent',   'cs.wang',   'agent.chen@kefu.example', 'zh'),
    ('eng.sun',    '孙伟',   'eng',      'head',    'vp.zhou',   'eng.sun@kefu.example',    'zh'),
    ('eng.liu',    '刘洋',   'eng',      'manager', 'eng.sun',   'eng.liu@kefu.example',    'zh'),
    ('eng.zhao',   '赵强',   'eng',      'staff',   'eng.liu',   'eng.zhao@kefu.example',   'zh'),
    ('audit.guo',  '郭涛',   'audit',    'head',    'vp.qian',   'audit.guo@kefu.example',  'zh'),
    ('fin.lin',    '林峰',   'finance',  'head',    'vp.qian',   'fin.lin@kefu.example',    'zh'),
    ('prop.he',    '何敏',   'property', 'head',    'vp.zhou',   'prop.he@kefu.example',    'zh'),
    ('prop.huang', '黄磊',   'property', 'staff',   'prop.he',   'prop.huang@kefu.example', 'zh'),
    ('sales.ma',   '马超',   'sales',    'head',    'vp.zhou',   'sales.ma@kefu.example',   'zh'),
    ('sales.xu',   '徐丽',   'sales',    'staff',   'sales.ma',  'sales.xu@kefu.example',   'en'),
    ('admin',      'kefu operator', 'cs', 'admin',  NULL,        'ops@kefu.example',        'en')
ON CONFLICT (id) DO NOTHING;

UPDATE department d SET head_id = h.head
  FROM (VALUES ('cs', 'cs.wang'), ('eng', 'eng.sun'), ('audit', 'audit.guo'),
               ('finance', 'fin.lin'), ('property', 'prop.he'), ('sales', 'sales.ma'),
               ('exec', 'gm.zheng')) AS h (dept, head)
 WHERE d.id = h.dept AND d.head_id IS NULL;

INSERT INTO project (id, name, city, gm_id) VALUES
    ('HZ-XH', '西湖苑', '杭州', 'gm.hz'),
    ('SH-PD', '浦东湾', '上海', 'gm.sh')
ON CONFLICT (id) DO NOTHING;

INSERT INTO building (project_id, code)
SELECT p, b::text FROM unnest(ARRAY['HZ-XH', 'SH-PD']) p, generate_series(1, 6) b
ON CONFLICT DO NOTHING;

-- Floors 1-18, four units a floor: 101 ... 1804.
INSERT INTO unit (project_id, building, unit_no)
SELECT p, b::text, (f * 100 + u)::text
  FROM unnest(ARRAY['HZ-XH', 'SH-PD']) p, generate_series(1, 6) b,
       generate_series(1, 18) f, generate_series(1, 4) u
ON CONFLICT DO NOTHING;

-- The most specific rule wins; the catch-all sends the rest to the centre.
INSERT INTO routing_rule (kind, category, project_id, department_id, owner_id, note) VALUES
    (NULL, NULL, NULL, 'cs', NULL, 'default: the customer-service centre'),
    (NULL, 'leak', NULL, 'eng', 'eng.zhao', '渗漏'),
    (NULL, 'crack', NULL, 'eng', 'eng.zhao', '裂缝'),
    (NULL, 'heating', NULL, 'eng', 'eng.liu', '暖气'),
    (NULL, 'doors-windows', NULL, 'eng', 'eng.zhao', '门窗'),
    (NULL, 'electrical', NULL, 'eng', 'eng.liu', '电气'),
    (NULL, 'plumbing', NULL, 'eng', 'eng.zhao', '给排水'),
    (NULL, 'design', NULL, 'eng', NULL, '设计规划'),
    (NULL, 'property-service', NULL, 'property', 'prop.huang', '物业服务'),
    (NULL, 'sales-promise', NULL, 'sales', 'sales.xu', '销售承诺'),
    ('inquiry', NULL, NULL, 'cs', 'agent.chen', '咨询'),
    ('complaint', 'leak', 'SH-PD', 'eng', 'eng.liu', '浦东湾渗漏投诉')
ON CONFLICT DO NOTHING;

-- Complaints are answered within 24 hours, around the clock.
INSERT INTO sla_policy (kind, priority, first_response_secs, resolve_secs, escalate_secs) VALUES
    ('complaint', 'normal', 86400, 864000, 86400),
    ('complaint', 'high', 14400, 432000, 43200),
    ('complaint', 'urgent', 3600, 172800, 14400),
    ('repair', 'normal', 86400, 604800, 86400),
    ('repair', 'high', 14400, 259200, 43200),
    ('repair', 'urgent', 3600, 86400, 14400),
    ('inquiry', 'normal', 86400, 259200, 86400),
    ('inquiry', 'high', 14400, 86400, 43200),
    ('inquiry', 'urgent', 3600, 43200, 14400),
    ('suggestion', 'normal', 172800, 2592000, 172800),
    ('suggestion', 'high', 86400, 1296000, 86400),
    ('suggestion', 'urgent', 86400, 604800, 86400),
    ('praise', 'normal', 172800, 604800, 172800),
    ('praise', 'high', 86400, 604800, 86400),
    ('praise', 'urgent', 86400, 604800, 86400)
ON CONFLICT DO NOTHING;

COMMIT;
