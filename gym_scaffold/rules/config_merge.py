"""A value whose shape differs from the one it overrides (a mapping over a list, or back).

NeMo Gym merges a file over the files it includes, and env.yaml over all of them, with
OmegaConf, which refuses to merge a mapping into a list or a list into a mapping: the
run stops at start-up.

Failing:

    # file: config.yaml
    config_paths: [base.yaml]
    my_agent:
      responses_api_agents:
        simple_agent:
          datasets:
            name: train
    # file: base.yaml
    my_agent:
      responses_api_agents:
        simple_agent:
          entrypoint: app.py
          datasets: []

Passing:

    # file: config.yaml
    config_paths: [base.yaml]
    my_agent:
      responses_api_agents:
        simple_agent:
          datasets:
            - name: train
              type: example
              jsonl_fpath: data/example.jsonl
    # file: base.yaml
    my_agent:
      responses_api_agents:
        simple_agent:
          entrypoint: app.py
          datasets: []
"""

ID = "config-merge"
SEVERITY = "error"
SUMMARY = "a mapping overriding a list (or a list a mapping), which OmegaConf refuses to merge"
