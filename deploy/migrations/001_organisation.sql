-- kefu store, part 1: the organisation and the owners (业主).
-- Identifiers that operators type (project codes, staff ids, department
-- codes) are text keys; rows that only the system creates use bigserial.

CREATE TABLE department (
    id         text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9-]{0,31}$'),
    name       text NOT NULL,           -- English
    name_zh    text NOT NULL,           -- 中文
    head_id    text                     -- staff id of the department head (FK added below)
);

CREATE TABLE staff (
    id            text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9._-]{0,63}$'),
    name          text NOT NULL,
    department_id text NOT NULL REFERENCES department (id),
    role          text NOT NULL CHECK (role IN ('agent', 'staff', 'manager', 'head', 'gm', 'vp', 'admin')),
    manager_id    text REFERENCES staff (id),
    email         text,
    phone         text,
    lang          text NOT NULL DEFAULT 'zh' CHECK (lang IN ('zh', 'en')),
    active        boolean NOT NULL DEFAULT true,
    CHECK (manager_id IS DISTINCT FROM id)
);

ALTER TABLE department
    ADD CONSTRAINT department_head_fk FOREIGN KEY (head_id) REFERENCES staff (id)
    DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE project (
    id     text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$'),
    name   text NOT NULL,
    city   text,
    gm_id  text REFERENCES staff (id)   -- project general manager: first responsible for complaints
);

CREATE TABLE building (
    project_id text NOT NULL REFERENCES project (id),
    code       text NOT NULL CHECK (length(code) BETWEEN 1 AND 16),
    PRIMARY KEY (project_id, code)
);

CREATE TABLE unit (
    id         bigserial PRIMARY KEY,
    project_id text NOT NULL,
    building   text NOT NULL,
    unit_no    text NOT NULL CHECK (length(unit_no) BETWEEN 1 AND 16),
    UNIQUE (project_id, building, unit_no),
    FOREIGN KEY (project_id, building) REFERENCES building (project_id, code)
);

-- Owners are found by phone, stored normalised (digits only, see proto/catalog.md).
CREATE TABLE homeowner (
    id         bigserial PRIMARY KEY,
    phone      text NOT NULL UNIQUE CHECK (phone ~ '^[0-9]{5,15}$'),
    name       text,
    lang       text NOT NULL DEFAULT 'zh' CHECK (lang IN ('zh', 'en')),
    segment    text CHECK (segment IN ('first-home', 'upgrade', 'investor', 'high-end', 'retirement')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE homeowner_unit (
    homeowner_id bigint NOT NULL REFERENCES homeowner (id),
    unit_id      bigint NOT NULL REFERENCES unit (id),
    PRIMARY KEY (homeowner_id, unit_id)
);
