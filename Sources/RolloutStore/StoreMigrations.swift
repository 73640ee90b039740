import Foundation

/// The store's schema, as named migrations that are never edited once released; a new need is a new
/// migration. Each is written once, in SQLite's SQL; PostgreSQL runs the same statements with its own
/// type names (`postgres(_:)`). How they run safely when many processes open a new store at once is
/// each engine's part (`StoreEngine.migrate`).
enum StoreMigrations {
    /// Every migration, in order (made once in a process).
    static let all: [StoreMigration] = {
        var list: [StoreMigration] = []
        func register(_ name: String, _ sql: () -> String) {
            let text = sql()
            list.append(StoreMigration(name: name, sqlite: text))
        }
        register("v1-audit-log") {
            """
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
                """
        }
        register("v1-guard-ledgers") {
            """
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
                """
        }
        register("v1-rollout-state") {
            """
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
                """
        }
        register("v2-backends-and-forms") {
            """
                -- Every ledger entry and approval names the backend its write runs on (second round: approvals and
                -- rollbacks run there and nowhere else). Rows of the first version ran on the built-in domain.
                ALTER TABLE idempotency ADD COLUMN backend TEXT NOT NULL DEFAULT 'builtin';
                ALTER TABLE approvals ADD COLUMN backend TEXT NOT NULL DEFAULT 'builtin';
                ALTER TABLE approvals ADD COLUMN subject TEXT;
                -- The canonical form the body was written in: 1 the first version's, 2 RFC 8785. The hash covers the
                -- stored bytes either way, so old rows verify as they are.
                ALTER TABLE audit_events ADD COLUMN form INTEGER NOT NULL DEFAULT 1;
                -- HMAC-SHA256 of the row's hash under ROLLOUT_CHAIN_KEY, when the writer had the key: a forged tail
                -- with recomputed hashes cannot carry it.
                ALTER TABLE audit_events ADD COLUMN mac TEXT;
                -- Settings of this store: its redaction key, whether it holds the demo domain, the chain key's start.
                CREATE TABLE store_meta (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                """
        }
        register("v3-serve") {
            """
                -- The dashboard lists recent writes of every tenant, newest first, by time range.
                CREATE INDEX audit_events_ts ON audit_events(ts_ms);
                -- Slack interaction payloads already acted on: each is used once, whichever serve answers it.
                CREATE TABLE serve_nonces (
                    nonce TEXT PRIMARY KEY,
                    seen_ms INTEGER NOT NULL
                );
                -- Notifications of queued writes (Slack, webhooks): each target's attempts and outcome. A failed
                -- delivery is recorded here and retried; the queued write itself is never touched by it.
                CREATE TABLE deliveries (
                    approval_id INTEGER NOT NULL,
                    target TEXT NOT NULL,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    last_error TEXT,
                    updated_ms INTEGER NOT NULL,
                    PRIMARY KEY (approval_id, target)
                );
                """
        }
        do {
            // Calls counted against caps per second and per minute, for the tenant (scope 0, actor '') and for
            // each actor (scope 1): a cap check sums the whole minutes and seconds of its window and counts only
            // its first, partial second in guard_calls. Counting every call of the window in guard_calls made
            // each guarded call slower as the window filled. The partial second is read by the table's own key
            // (tenant, tool, ts_ms), so the actor index is one more insert for nothing.
            let table = """
                CREATE TABLE guard_call_buckets (
                    tenant TEXT NOT NULL,
                    tool TEXT NOT NULL,
                    scope INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    span_ms INTEGER NOT NULL,
                    start_ms INTEGER NOT NULL,
                    calls INTEGER NOT NULL,
                    PRIMARY KEY (tenant, tool, scope, actor, span_ms, start_ms)
                ) WITHOUT ROWID;

                """
            // The database itself adds each call to its four buckets, so a guard of an earlier version still
            // running beside a migrated store is counted too (its inserts into guard_calls fire the trigger).
            // Made before the backfill: on PostgreSQL, CREATE TRIGGER waits for the inserts in progress and
            // holds off new ones until this migration commits, so no call falls between the two.
            let upsert = """
                INSERT INTO guard_call_buckets (tenant, tool, scope, actor, span_ms, start_ms, calls) VALUES
                        (NEW.tenant, NEW.tool, 0, '', 1000, NEW.ts_ms - ((NEW.ts_ms % 1000) + 1000) % 1000, 1),
                        (NEW.tenant, NEW.tool, 0, '', 60000, NEW.ts_ms - ((NEW.ts_ms % 60000) + 60000) % 60000, 1),
                        (NEW.tenant, NEW.tool, 1, NEW.actor, 1000, NEW.ts_ms - ((NEW.ts_ms % 1000) + 1000) % 1000, 1),
                        (NEW.tenant, NEW.tool, 1, NEW.actor, 60000, NEW.ts_ms - ((NEW.ts_ms % 60000) + 60000) % 60000, 1)
                    ON CONFLICT (tenant, tool, scope, actor, span_ms, start_ms) DO UPDATE SET calls = guard_call_buckets.calls + 1
                """
            let sqliteTrigger = """
                CREATE TRIGGER guard_calls_buckets AFTER INSERT ON guard_calls BEGIN
                    \(upsert);
                END;

                """
            let postgresTrigger = """
                CREATE FUNCTION guard_call_buckets_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                    \(upsert);
                    RETURN NULL;
                END $$;
                CREATE TRIGGER guard_calls_buckets AFTER INSERT ON guard_calls FOR EACH ROW EXECUTE FUNCTION guard_call_buckets_add();

                """
            let backfill = """
                INSERT INTO guard_call_buckets (tenant, tool, scope, actor, span_ms, start_ms, calls)
                    SELECT tenant, tool, 0, '', 1000, ts_ms - ((ts_ms % 1000) + 1000) % 1000, count(*) FROM guard_calls
                    GROUP BY tenant, tool, ts_ms - ((ts_ms % 1000) + 1000) % 1000;
                INSERT INTO guard_call_buckets (tenant, tool, scope, actor, span_ms, start_ms, calls)
                    SELECT tenant, tool, 0, '', 60000, ts_ms - ((ts_ms % 60000) + 60000) % 60000, count(*) FROM guard_calls
                    GROUP BY tenant, tool, ts_ms - ((ts_ms % 60000) + 60000) % 60000;
                INSERT INTO guard_call_buckets (tenant, tool, scope, actor, span_ms, start_ms, calls)
                    SELECT tenant, tool, 1, actor, 1000, ts_ms - ((ts_ms % 1000) + 1000) % 1000, count(*) FROM guard_calls
                    GROUP BY tenant, tool, actor, ts_ms - ((ts_ms % 1000) + 1000) % 1000;
                INSERT INTO guard_call_buckets (tenant, tool, scope, actor, span_ms, start_ms, calls)
                    SELECT tenant, tool, 1, actor, 60000, ts_ms - ((ts_ms % 60000) + 60000) % 60000, count(*) FROM guard_calls
                    GROUP BY tenant, tool, actor, ts_ms - ((ts_ms % 60000) + 60000) % 60000;
                DROP INDEX guard_calls_actor;
                """
            list.append(StoreMigration(name: "v4-cap-buckets", sqlite: table + sqliteTrigger + backfill,
                                       postgres: postgres(table) + postgresTrigger + postgres(backfill)))
        }
        register("v5-tenant-pauses") {
            """
                -- The kill switch as the store knows it: each tenant's last pause or resume, written with its audit
                -- event. Guards read it, so a pause made on one host stops the guards of every host that writes
                -- this store, whatever their own tenants.yaml says.
                CREATE TABLE tenant_pauses (
                    tenant TEXT PRIMARY KEY,
                    paused INTEGER NOT NULL,
                    by_actor TEXT NOT NULL,
                    automated INTEGER NOT NULL,
                    reason TEXT,
                    at_ms INTEGER NOT NULL,
                    audit_seq INTEGER NOT NULL
                );
                """
        }
        register("v6-idempotency-keys-in-the-chain") {
            """
                -- The events that used an idempotency key: a key missing from the idempotency table (a row deleted
                -- or edited by hand) is looked for in the chain before a write runs under it, so that a retry never
                -- writes twice. Partial: only events with a key pay for it. With the decision, the refusals a key
                -- gathered are passed over in the index.
                CREATE INDEX audit_events_idempotency ON audit_events(tenant, idempotency_key, decision) WHERE idempotency_key IS NOT NULL;
                """
        }
        register("v7-pauses-in-the-chain") {
            """
                -- A tenant's pauses and resumes: the pause table is not chained, so the kill switch also reads the
                -- tenant's last pause or resume from the chain (a row deleted by hand must not lift it). Partial:
                -- only stage events pay for it.
                CREATE INDEX audit_events_pauses ON audit_events(tenant, seq) WHERE decision IN ('stage_pause', 'stage_resume');
                """
        }
        return list
    }()

    /// PostgreSQL's spelling of a migration written for SQLite: 64-bit integers, a serial key where
    /// SQLite's rowid numbered rows (approvals), no rowid clauses.
    static func postgres(_ sqlite: String) -> String {
        sqlite
            .replacingOccurrences(of: "id INTEGER PRIMARY KEY,", with: "id BIGSERIAL PRIMARY KEY,")
            .replacingOccurrences(of: " WITHOUT ROWID", with: "")
            .replacingOccurrences(of: " INTEGER", with: " BIGINT")
    }
}
