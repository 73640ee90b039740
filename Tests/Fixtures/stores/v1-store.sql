PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
INSERT INTO grdb_migrations VALUES('v1-audit-log');
INSERT INTO grdb_migrations VALUES('v1-guard-ledgers');
INSERT INTO grdb_migrations VALUES('v1-rollout-state');
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    tenant TEXT NOT NULL,
    actor TEXT NOT NULL,
    session TEXT,
    tool TEXT NOT NULL,
    model TEXT,
    operation TEXT,
    row_count INTEGER NOT NULL,
    decision TEXT NOT NULL,
    approver TEXT,
    idempotency_key TEXT,
    reason TEXT,
    -- What the write did (tool, rows, values after), hashed: the scorer finds the same write
    -- repeated under other keys by grouping on it. Derived from the body; verify checks it.
    effect TEXT,
    -- The names of the fields the write changed, sorted, comma-separated: what the scorer's
    -- field signals read instead of the body. Derived from the body; verify checks it.
    shape TEXT,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_events VALUES(1,'2026-11-28T08:57:26.636Z',1795856246636,'acme','agent-1',NULL,'orders.update','Order','update',1,'executed',NULL,'k-1','carrier confirmed pickup','ad0449e01745d9f7','notes,status','{"actor":"agent-1","approver":null,"decision":"executed","details":{"args_digest":"sha256:39d023d01de21804399319ca5e106389683ec6670d747822b2256dc5a125547d"},"fields_changed":{"notes":{"after":"Grüße — 東京   done","before":"notes 0"},"status":{"after":"shipped","before":"pending"}},"idempotency_key":"k-1","message":"orders.update changed 1 row","model":"Order","operation":"update","policy_digest":"sha256:4017923633b1c1e83fce855505fa16fb67790fa595ce1b04cd98694c17de7e5f","reason":"carrier confirmed pickup","row_count":1,"seq":1,"targets":[1],"tenant":"acme","tool":"orders.update","ts":"2026-11-28T08:57:26.636Z"}','0000000000000000000000000000000000000000000000000000000000000000','953fcc6c3d4d617235f755fef1cdd609bd05d0f84c3a879a02ec7ecf69d4244c');
INSERT INTO audit_events VALUES(2,'2026-11-28T08:57:26.694Z',1795856246694,'acme','agent-1',NULL,'orders.update','Order','update',1,'reason_required',NULL,'k-2','n/a','537cea86b0674cc8',NULL,'{"actor":"agent-1","approver":null,"decision":"reason_required","details":{"args_digest":"sha256:0812e51686070b8e38a27de936ae39edc614cba4260b7f2059dbd8723f18d521","fields":["status"]},"fields_changed":{},"idempotency_key":"k-2","message":"orders.update: \"n/a\" is boilerplate, not a reason. Say why this write is needed, in words (at least 12 characters).","model":"Order","operation":"update","policy_digest":"sha256:4017923633b1c1e83fce855505fa16fb67790fa595ce1b04cd98694c17de7e5f","reason":"n/a","row_count":1,"seq":2,"targets":[2],"tenant":"acme","tool":"orders.update","ts":"2026-11-28T08:57:26.694Z"}','953fcc6c3d4d617235f755fef1cdd609bd05d0f84c3a879a02ec7ecf69d4244c','c5712a49aa6d977f5c9523c2ddaf9b375d837d35390e9a242a6822579061327c');
INSERT INTO audit_events VALUES(3,'2026-11-28T08:57:26.735Z',1795856246735,'acme','agent-1',NULL,'refunds.issue','Refund','create',1,'pending_approval',NULL,'r-1','parcel arrived crushed',NULL,'amount_cents,order_id,reason_code','{"actor":"agent-1","approver":null,"decision":"pending_approval","details":{"args_digest":"sha256:98e0052369873242b248ad5318c399fdeba8fe4ee0e84ee1efc03a14fbcb32a7"},"fields_changed":{"amount_cents":{"after":90000,"before":null},"order_id":{"after":2,"before":null},"reason_code":{"after":"damaged","before":null}},"idempotency_key":"r-1","model":"Refund","operation":"create","policy_digest":"sha256:4017923633b1c1e83fce855505fa16fb67790fa595ce1b04cd98694c17de7e5f","reason":"parcel arrived crushed","row_count":1,"seq":3,"tenant":"acme","tool":"refunds.issue","ts":"2026-11-28T08:57:26.735Z"}','c5712a49aa6d977f5c9523c2ddaf9b375d837d35390e9a242a6822579061327c','1d2dbfcf38e93857284c0fbf20a8fbcb39dcfca8ea5c857949025c275d121f7c');
INSERT INTO audit_events VALUES(4,'2026-11-28T08:57:26.774Z',1795856246774,'acme','agent-1',NULL,'refunds.issue','Refund','create',1,'executed','maria.lopez','r-1','parcel arrived crushed','ae4c2357e501b29c','amount_cents,order_id,reason_code','{"actor":"agent-1","approver":"maria.lopez","decision":"executed","details":{"approval_id":1,"approval_reason":"photos checked","args_digest":"sha256:98e0052369873242b248ad5318c399fdeba8fe4ee0e84ee1efc03a14fbcb32a7"},"fields_changed":{"amount_cents":{"after":90000,"before":null},"order_id":{"after":2,"before":null},"reason_code":{"after":"damaged","before":null}},"idempotency_key":"r-1","message":"refunds.issue changed 1 row","model":"Refund","operation":"create","policy_digest":"sha256:4017923633b1c1e83fce855505fa16fb67790fa595ce1b04cd98694c17de7e5f","reason":"parcel arrived crushed","row_count":1,"seq":4,"targets":[25],"tenant":"acme","tool":"refunds.issue","ts":"2026-11-28T08:57:26.774Z"}','1d2dbfcf38e93857284c0fbf20a8fbcb39dcfca8ea5c857949025c275d121f7c','53d66c149dfcc3aa1e4d80b5e85450d073c00da1010327a184305f85e556f03b');
INSERT INTO audit_events VALUES(5,'2026-11-28T08:57:26.812Z',1795856246812,'acme','dev.patel',NULL,'orders.update','Order','update',1,'rolled_back',NULL,NULL,'the carrier scan was wrong','52e871c6c64a63b2','notes,status','{"actor":"dev.patel","approver":null,"decision":"rolled_back","details":{"rollback_of":1},"fields_changed":{"notes":{"after":"notes 0","before":"Grüße — 東京   done"},"status":{"after":"pending","before":"shipped"}},"idempotency_key":null,"message":"rolled back event 1: 1 row restored","model":"Order","operation":"update","policy_digest":"sha256:4017923633b1c1e83fce855505fa16fb67790fa595ce1b04cd98694c17de7e5f","reason":"the carrier scan was wrong","row_count":1,"seq":5,"targets":[1],"tenant":"acme","tool":"orders.update","ts":"2026-11-28T08:57:26.812Z"}','53d66c149dfcc3aa1e4d80b5e85450d073c00da1010327a184305f85e556f03b','0b88d2f2417afff4a5146534fc8670bc253b12917e53e964bdbe0ddaee1b46d0');
INSERT INTO audit_events VALUES(6,'2026-11-20T10:00:00.000Z',1795168800000,'acme','ormai-agent',NULL,'db.update',NULL,NULL,1,'allowed',NULL,NULL,'fix typo in name',NULL,'price,名前','{"actor":"ormai-agent","approver":null,"decision":"allowed","extra_field":{"z":[0.1,1.2345678901234568e+20],"é":1},"fields_changed":{"price":{"after":1e+21,"before":1.5e-07},"名前":{"after":"b","before":"a"}},"idempotency_key":null,"model":null,"operation":null,"reason":"fix typo in name","row_count":1,"seq":6,"tenant":"acme","tool":"db.update","ts":"2026-11-20T10:00:00.000Z"}','0b88d2f2417afff4a5146534fc8670bc253b12917e53e964bdbe0ddaee1b46d0','f84b0d6513628bd9370a2834599b44a2b4e8bfe499e9ade4ef1f73a9495921d1');
INSERT INTO audit_events VALUES(7,'2026-11-20T08:00:01.500Z',1795161601500,'globex','ormai-agent',NULL,'db.delete',NULL,NULL,0,'denied',NULL,NULL,'cleanup',NULL,NULL,'{"actor":"ormai-agent","api_key":"sk-live-1234","approver":null,"decision":"denied","fields_changed":{},"idempotency_key":null,"model":null,"operation":null,"reason":"cleanup","row_count":0,"seq":7,"tenant":"globex","tool":"db.delete","ts":"2026-11-20T08:00:01.500Z"}','f84b0d6513628bd9370a2834599b44a2b4e8bfe499e9ade4ef1f73a9495921d1','75f2f11c38770ed0d42c564d49f82ab58792da4050bf1d67c6d0f5106ac7df0c');
CREATE TABLE chain_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO chain_head VALUES(1,7,'75f2f11c38770ed0d42c564d49f82ab58792da4050bf1d67c6d0f5106ac7df0c');
CREATE TABLE idempotency (
    tenant TEXT NOT NULL,
    key TEXT NOT NULL,
    tool TEXT NOT NULL,
    effect_digest TEXT NOT NULL,
    audit_seq INTEGER NOT NULL,
    decision TEXT NOT NULL,
    result TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, key)
) WITHOUT ROWID;
INSERT INTO idempotency VALUES('acme','k-1','orders.update','sha256:1ed018ce5c959ae5f81d4d88326550cfb3cb3151a33cb35e8945ecb43ec997e9',1,'executed','{"audit_id":1,"decision":"executed","ok":true,"rows":[{"fields":{"notes":{"after":"Grüße — 東京   done","before":"notes 0"},"status":{"after":"shipped","before":"pending"}},"key":1}]}',1795856246636);
INSERT INTO idempotency VALUES('acme','r-1','refunds.issue','sha256:d186d5baddd3f3852578d5954eb890a4c30638b9919709e6cd74920de3011498',4,'executed','{"audit_id":4,"decision":"executed","ok":true,"rows":[{"fields":{"amount_cents":{"after":90000,"before":null},"order_id":{"after":2,"before":null},"reason_code":{"after":"damaged","before":null}},"key":25}]}',1795856246735);
CREATE TABLE guard_calls (
    tenant TEXT NOT NULL,
    tool TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    audit_seq INTEGER NOT NULL,
    PRIMARY KEY (tenant, tool, ts_ms, audit_seq)
) WITHOUT ROWID;
INSERT INTO guard_calls VALUES('acme','orders.update',1795856246636,'agent-1',1);
INSERT INTO guard_calls VALUES('acme','refunds.issue',1795856246735,'agent-1',3);
CREATE TABLE dry_runs (
    tenant TEXT NOT NULL,
    tool TEXT NOT NULL,
    effect_digest TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    audit_seq INTEGER NOT NULL
);
CREATE TABLE approvals (
    id INTEGER PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    tenant TEXT NOT NULL,
    actor TEXT NOT NULL,
    session TEXT,
    tool TEXT NOT NULL,
    wire_tool TEXT NOT NULL,
    arguments TEXT NOT NULL,
    args_digest TEXT NOT NULL,
    status TEXT NOT NULL,
    pending_seq INTEGER NOT NULL,
    decided_by TEXT,
    decided_ms INTEGER,
    decision_reason TEXT,
    result_seq INTEGER
);
INSERT INTO approvals VALUES(1,1795856246735,1795870646735,'acme','agent-1',NULL,'refunds.issue','refunds.issue','{"amount_cents":90000,"order_id":2,"reason":"parcel arrived crushed","reason_code":"damaged","request_id":"r-1"}','sha256:98e0052369873242b248ad5318c399fdeba8fe4ee0e84ee1efc03a14fbcb32a7','executed',3,'maria.lopez',1795856246774,'photos checked',4);
CREATE TABLE rollbacks (
    original_seq INTEGER PRIMARY KEY,
    rollback_seq INTEGER NOT NULL
);
INSERT INTO rollbacks VALUES(1,5);
CREATE TABLE secret_stash (
    audit_seq INTEGER PRIMARY KEY,
    "values" TEXT NOT NULL
);
CREATE TABLE stage_versions (
    tenant TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE score_runs (
    tenant TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    from_ms INTEGER NOT NULL,
    until_ms INTEGER NOT NULL,
    events INTEGER NOT NULL,
    active_days INTEGER NOT NULL,
    anomalies INTEGER NOT NULL,
    last_anomaly_ms INTEGER,
    last_anomaly TEXT
);
CREATE TABLE gate_runs (
    tenant TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    next_stage TEXT,
    passed INTEGER NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS "demo_orders" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "tenant_id" TEXT NOT NULL, "status" TEXT, "amount_cents" INTEGER, "notes" TEXT, "shipping_address" TEXT, "payment_token" TEXT);
INSERT INTO demo_orders VALUES(1,'acme','pending',100000,'notes 0','shipping address 0','secret-acme-0');
INSERT INTO demo_orders VALUES(2,'acme','paid',200000,'notes 1','shipping address 1','secret-acme-1');
INSERT INTO demo_orders VALUES(3,'acme','shipped',300000,'notes 2','shipping address 2','secret-acme-2');
INSERT INTO demo_orders VALUES(4,'acme','cancelled',400000,'notes 3','shipping address 3','secret-acme-3');
INSERT INTO demo_orders VALUES(5,'acme','refunded',500000,'notes 4','shipping address 4','secret-acme-4');
INSERT INTO demo_orders VALUES(6,'acme','pending',600000,'notes 5','shipping address 5','secret-acme-5');
INSERT INTO demo_orders VALUES(7,'acme','paid',700000,'notes 6','shipping address 6','secret-acme-6');
INSERT INTO demo_orders VALUES(8,'acme','shipped',800000,'notes 7','shipping address 7','secret-acme-7');
INSERT INTO demo_orders VALUES(9,'globex','pending',100000,'notes 0','shipping address 0','secret-globex-0');
INSERT INTO demo_orders VALUES(10,'globex','paid',200000,'notes 1','shipping address 1','secret-globex-1');
INSERT INTO demo_orders VALUES(11,'globex','shipped',300000,'notes 2','shipping address 2','secret-globex-2');
INSERT INTO demo_orders VALUES(12,'globex','cancelled',400000,'notes 3','shipping address 3','secret-globex-3');
INSERT INTO demo_orders VALUES(13,'globex','refunded',500000,'notes 4','shipping address 4','secret-globex-4');
INSERT INTO demo_orders VALUES(14,'globex','pending',600000,'notes 5','shipping address 5','secret-globex-5');
INSERT INTO demo_orders VALUES(15,'globex','paid',700000,'notes 6','shipping address 6','secret-globex-6');
INSERT INTO demo_orders VALUES(16,'globex','shipped',800000,'notes 7','shipping address 7','secret-globex-7');
INSERT INTO demo_orders VALUES(17,'initech','pending',100000,'notes 0','shipping address 0','secret-initech-0');
INSERT INTO demo_orders VALUES(18,'initech','paid',200000,'notes 1','shipping address 1','secret-initech-1');
INSERT INTO demo_orders VALUES(19,'initech','shipped',300000,'notes 2','shipping address 2','secret-initech-2');
INSERT INTO demo_orders VALUES(20,'initech','cancelled',400000,'notes 3','shipping address 3','secret-initech-3');
INSERT INTO demo_orders VALUES(21,'initech','refunded',500000,'notes 4','shipping address 4','secret-initech-4');
INSERT INTO demo_orders VALUES(22,'initech','pending',600000,'notes 5','shipping address 5','secret-initech-5');
INSERT INTO demo_orders VALUES(23,'initech','paid',700000,'notes 6','shipping address 6','secret-initech-6');
INSERT INTO demo_orders VALUES(24,'initech','shipped',800000,'notes 7','shipping address 7','secret-initech-7');
CREATE TABLE IF NOT EXISTS "demo_refunds" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "tenant_id" TEXT NOT NULL, "order_id" INTEGER, "amount_cents" INTEGER, "reason_code" TEXT);
INSERT INTO demo_refunds VALUES(1,'acme',1001,5000,'damaged');
INSERT INTO demo_refunds VALUES(2,'acme',2001,9999,'late');
INSERT INTO demo_refunds VALUES(3,'acme',3001,14998,'wrong_item');
INSERT INTO demo_refunds VALUES(4,'acme',4001,19997,'goodwill');
INSERT INTO demo_refunds VALUES(5,'acme',5001,24996,'damaged');
INSERT INTO demo_refunds VALUES(6,'acme',6001,29995,'late');
INSERT INTO demo_refunds VALUES(7,'acme',7001,34994,'wrong_item');
INSERT INTO demo_refunds VALUES(8,'acme',8001,39993,'goodwill');
INSERT INTO demo_refunds VALUES(9,'globex',1001,5000,'damaged');
INSERT INTO demo_refunds VALUES(10,'globex',2001,9999,'late');
INSERT INTO demo_refunds VALUES(11,'globex',3001,14998,'wrong_item');
INSERT INTO demo_refunds VALUES(12,'globex',4001,19997,'goodwill');
INSERT INTO demo_refunds VALUES(13,'globex',5001,24996,'damaged');
INSERT INTO demo_refunds VALUES(14,'globex',6001,29995,'late');
INSERT INTO demo_refunds VALUES(15,'globex',7001,34994,'wrong_item');
INSERT INTO demo_refunds VALUES(16,'globex',8001,39993,'goodwill');
INSERT INTO demo_refunds VALUES(17,'initech',1001,5000,'damaged');
INSERT INTO demo_refunds VALUES(18,'initech',2001,9999,'late');
INSERT INTO demo_refunds VALUES(19,'initech',3001,14998,'wrong_item');
INSERT INTO demo_refunds VALUES(20,'initech',4001,19997,'goodwill');
INSERT INTO demo_refunds VALUES(21,'initech',5001,24996,'damaged');
INSERT INTO demo_refunds VALUES(22,'initech',6001,29995,'late');
INSERT INTO demo_refunds VALUES(23,'initech',7001,34994,'wrong_item');
INSERT INTO demo_refunds VALUES(24,'initech',8001,39993,'goodwill');
INSERT INTO demo_refunds VALUES(25,'acme',2,90000,'damaged');
CREATE TABLE IF NOT EXISTS "demo_customers" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "tenant_id" TEXT NOT NULL, "name" TEXT, "email" TEXT, "phone" TEXT, "role" TEXT, "marketing_opt_in" INTEGER, "api_key" TEXT);
INSERT INTO demo_customers VALUES(1,'acme','name 0','user0@acme.example','+1 555 0100','customer',1,'secret-acme-0');
INSERT INTO demo_customers VALUES(2,'acme','name 1','user1@acme.example','+1 555 0101','support',0,'secret-acme-1');
INSERT INTO demo_customers VALUES(3,'acme','name 2','user2@acme.example','+1 555 0102','admin',1,'secret-acme-2');
INSERT INTO demo_customers VALUES(4,'acme','name 3','user3@acme.example','+1 555 0103','customer',0,'secret-acme-3');
INSERT INTO demo_customers VALUES(5,'acme','name 4','user4@acme.example','+1 555 0104','support',1,'secret-acme-4');
INSERT INTO demo_customers VALUES(6,'acme','name 5','user5@acme.example','+1 555 0105','admin',0,'secret-acme-5');
INSERT INTO demo_customers VALUES(7,'acme','name 6','user6@acme.example','+1 555 0106','customer',1,'secret-acme-6');
INSERT INTO demo_customers VALUES(8,'acme','name 7','user7@acme.example','+1 555 0107','support',0,'secret-acme-7');
INSERT INTO demo_customers VALUES(9,'globex','name 0','user0@globex.example','+1 555 0100','customer',1,'secret-globex-0');
INSERT INTO demo_customers VALUES(10,'globex','name 1','user1@globex.example','+1 555 0101','support',0,'secret-globex-1');
INSERT INTO demo_customers VALUES(11,'globex','name 2','user2@globex.example','+1 555 0102','admin',1,'secret-globex-2');
INSERT INTO demo_customers VALUES(12,'globex','name 3','user3@globex.example','+1 555 0103','customer',0,'secret-globex-3');
INSERT INTO demo_customers VALUES(13,'globex','name 4','user4@globex.example','+1 555 0104','support',1,'secret-globex-4');
INSERT INTO demo_customers VALUES(14,'globex','name 5','user5@globex.example','+1 555 0105','admin',0,'secret-globex-5');
INSERT INTO demo_customers VALUES(15,'globex','name 6','user6@globex.example','+1 555 0106','customer',1,'secret-globex-6');
INSERT INTO demo_customers VALUES(16,'globex','name 7','user7@globex.example','+1 555 0107','support',0,'secret-globex-7');
INSERT INTO demo_customers VALUES(17,'initech','name 0','user0@initech.example','+1 555 0100','customer',1,'secret-initech-0');
INSERT INTO demo_customers VALUES(18,'initech','name 1','user1@initech.example','+1 555 0101','support',0,'secret-initech-1');
INSERT INTO demo_customers VALUES(19,'initech','name 2','user2@initech.example','+1 555 0102','admin',1,'secret-initech-2');
INSERT INTO demo_customers VALUES(20,'initech','name 3','user3@initech.example','+1 555 0103','customer',0,'secret-initech-3');
INSERT INTO demo_customers VALUES(21,'initech','name 4','user4@initech.example','+1 555 0104','support',1,'secret-initech-4');
INSERT INTO demo_customers VALUES(22,'initech','name 5','user5@initech.example','+1 555 0105','admin',0,'secret-initech-5');
INSERT INTO demo_customers VALUES(23,'initech','name 6','user6@initech.example','+1 555 0106','customer',1,'secret-initech-6');
INSERT INTO demo_customers VALUES(24,'initech','name 7','user7@initech.example','+1 555 0107','support',0,'secret-initech-7');
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('demo_orders',24);
INSERT INTO sqlite_sequence VALUES('demo_refunds',25);
INSERT INTO sqlite_sequence VALUES('demo_customers',24);
CREATE INDEX audit_events_tenant_ts ON audit_events(tenant, ts_ms, tool, actor);
CREATE INDEX guard_calls_actor ON guard_calls(tenant, tool, actor, ts_ms);
CREATE INDEX dry_runs_lookup ON dry_runs(tenant, tool, effect_digest);
CREATE INDEX approvals_status ON approvals(status, tenant);
CREATE INDEX score_runs_tenant ON score_runs(tenant, at_ms);
CREATE INDEX gate_runs_tenant ON gate_runs(tenant, at_ms);
COMMIT;
