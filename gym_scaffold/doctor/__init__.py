"""`gym-scaffold doctor`: find out why a model server cannot reach its model.

    targets (config, env.yaml or flags) -> static checks -> probes (openai SDK) -> classify
    -> report

Layout:
    classify.py  status + headers + body (or a transport failure) -> Diagnosis
    static.py    checks that need no network: values present, key hygiene, URL shape, proxies
    probes.py    GET /models, the model, one minimal inference; bounded in time
    logscan.py   the same diagnoses from text a user already has (SDK messages, NeMo Gym logs)
    targets.py   which endpoints to check, and where each value was written
    report.py    text and JSON output

Nothing here imports click, and `openai` is imported only when a probe runs.
"""
