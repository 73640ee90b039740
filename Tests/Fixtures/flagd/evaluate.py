"""Evaluates a flagd flag-definition file with the real OpenFeature flagd provider (file mode, offline)
and prints the variant of every (tenant, flag) pair asked for, as JSON.

usage: evaluate.py FLAGS_FILE QUERIES_JSON
  QUERIES_JSON: [{"tenant": "acme", "flag": "write-tool.orders.update"}, ...]
prints: [{"tenant": ..., "flag": ..., "value": "soft", "variant": "soft", "reason": "TARGETING_MATCH", "error": null}, ...]

Also validates the file against flagd's JSON schema when given --schema DIR (the folder holding flags.json).
"""
import json
import sys
import time


def validate(flags_path, schema_dir):
    import jsonschema
    from referencing import Registry, Resource

    with open(f"{schema_dir}/flags.json") as f:
        schema = json.load(f)
    # flags.json refers to ./targeting.json for targeting rules; when that file is not beside it, the
    # targeting rules are checked by the provider's evaluation below instead.
    try:
        with open(f"{schema_dir}/targeting.json") as f:
            targeting = json.load(f)
    except FileNotFoundError:
        targeting = {"type": ["object", "null"]}
    registry = Registry().with_resources([
        ("./targeting.json", Resource.opaque(targeting)),
        ("https://flagd.dev/schema/v0/targeting.json", Resource.opaque(targeting)),
    ])
    with open(flags_path) as f:
        document = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, registry=registry)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]


def main():
    args = sys.argv[1:]
    schema_dir = None
    if "--schema" in args:
        i = args.index("--schema")
        schema_dir = args[i + 1]
        del args[i:i + 2]
    flags_path, queries_json = args
    queries = json.loads(queries_json)

    from openfeature import api
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.contrib.provider.flagd import FlagdProvider
    from openfeature.contrib.provider.flagd.config import ResolverType

    provider = FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=flags_path)
    api.set_provider(provider)
    client = api.get_client()
    # The file resolver loads in the background; wait until it answers for a known flag.
    deadline = time.time() + 20
    first = queries[0]["flag"] if queries else None
    while first and time.time() < deadline:
        details = client.get_string_details(first, "unset", EvaluationContext(attributes={"tenant": "__probe__"}))
        if details.reason is not None and str(details.reason).upper().find("ERROR") < 0 and details.error_code is None:
            break
        time.sleep(0.1)

    answers = []
    for q in queries:
        attributes = {} if q.get("tenant") is None else {"tenant": q["tenant"]}
        details = client.get_string_details(q["flag"], "unset", EvaluationContext(attributes=attributes))
        answers.append({
            "tenant": q.get("tenant"), "flag": q["flag"], "value": details.value, "variant": details.variant,
            "reason": str(details.reason), "error": None if details.error_code is None else str(details.error_code),
        })
    out = {"answers": answers}
    if schema_dir:
        out["schema_errors"] = validate(flags_path, schema_dir)
    print(json.dumps(out))
    api.shutdown()


if __name__ == "__main__":
    main()
