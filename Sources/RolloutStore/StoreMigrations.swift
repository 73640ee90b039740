import GRDB

/// The store's schema, as named migrations that are never edited once released; a new need is a new
/// migration.
enum StoreMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-audit-log") { db in
            try db.execute(sql: """
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
                -- Covers the scorer's counts per bucket, tool and actor: SQLite counts from the index alone.
                CREATE INDEX audit_events_tenant_ts ON audit_events(tenant, ts_ms, tool, actor);
                CREATE TABLE chain_head (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    seq INTEGER NOT NULL,
                    hash TEXT NOT NULL
                );
                INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, '\(HashChain.genesis)');
                """)
        }
        migrator.registerMigration("v1-guard-ledgers") { db in
            try db.execute(sql: """
                -- WITHOUT ROWID: one B-tree per table instead of a table and an index, so a decision's
                -- transaction writes fewer pages.
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
                CREATE TABLE guard_calls (
                    tenant TEXT NOT NULL,
                    tool TEXT NOT NULL,
                    ts_ms INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    audit_seq INTEGER NOT NULL,
                    PRIMARY KEY (tenant, tool, ts_ms, audit_seq)
                ) WITHOUT ROWID;
                CREATE INDEX guard_calls_actor ON guard_calls(tenant, tool, actor, ts_ms);
                CREATE TABLE dry_runs (
                    tenant TEXT NOT NULL,
                    tool TEXT NOT NULL,
                    effect_digest TEXT NOT NULL,
                    created_ms INTEGER NOT NULL,
                    audit_seq INTEGER NOT NULL
                );
                CREATE INDEX dry_runs_lookup ON dry_runs(tenant, tool, effect_digest);
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
                CREATE INDEX approvals_status ON approvals(status, tenant);
                CREATE TABLE rollbacks (
                    original_seq INTEGER PRIMARY KEY,
                    rollback_seq INTEGER NOT NULL
                );
                -- Clear values of redacted fields, kept only so a rollback can restore them; never in a report.
                CREATE TABLE secret_stash (
                    audit_seq INTEGER PRIMARY KEY,
                    "values" TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v1-rollout-state") { db in
            try db.execute(sql: """
                -- One row per tenant: bumped by every stage change, so that of two promotions started from the
                -- same state only the first commits.
                CREATE TABLE stage_versions (
                    tenant TEXT PRIMARY KEY,
                    version INTEGER NOT NULL,
                    updated_ms INTEGER NOT NULL
                );
                -- The latest verdicts, so that `rollout status` answers from them without scoring again.
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
                CREATE INDEX score_runs_tenant ON score_runs(tenant, at_ms);
                CREATE TABLE gate_runs (
                    tenant TEXT NOT NULL,
                    at_ms INTEGER NOT NULL,
                    next_stage TEXT,
                    passed INTEGER NOT NULL,
                    summary TEXT NOT NULL
                );
                CREATE INDEX gate_runs_tenant ON gate_runs(tenant, at_ms);
                """)
        }
        return migrator
    }
}
