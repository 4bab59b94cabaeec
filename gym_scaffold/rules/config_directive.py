"""A directive that names an instance that does not exist.

`_inherit_from: a` and `_copy: a` take their base from instance `a` after merging;
a misspelled source leaves the instance without its fields. A name close to an existing
instance is reported at once; in a `--config` run every missing source is. Checking one
file, a source that may come from a config combined at run time is accepted.

Failing:

    base_agent:
      responses_api_agents:
        simple_agent:
          entrypoint: app.py
    my_agent:
      _inherit_from: base_agnet

Passing:

    base_agent:
      responses_api_agents:
        simple_agent:
          entrypoint: app.py
    my_agent:
      _inherit_from: base_agent
"""

ID = "config-directive"
SEVERITY = "error"
SUMMARY = "_inherit_from / _copy naming an instance that does not exist"
