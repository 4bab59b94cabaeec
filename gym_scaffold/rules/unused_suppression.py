"""An inline suppression that hides nothing.

`# gym-scaffold: ignore[rule-id]` stays in a file long after the problem it hid was
fixed, and then hides the next, unrelated problem of that rule on the same line. Each rule
a suppression names must hide a problem where it stands, or the suppression is reported
here. A rule the project configuration turns off (`ignore`, `select`, `per-file-ignores`,
`severity = "off"`) or that the command line leaves out hides nothing either way and is
not reported. What a file's suppression hides can depend on how the file is checked: on
its own (the pre-commit hook, a whole checkout) or combined with others in a `--config`
run. So nothing is reported in a `--config` run, and a suppression of a rule that reports
more in a run (missing-key, missing-value, server-reference, unresolved-interpolation) is
never reported. Settled after every other rule, in gym_scaffold/settle/.

Failing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py  # gym-scaffold: ignore[base-url]
          openai_base_url: ${policy_base_url}
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}

Passing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          # gym-scaffold: ignore[base-url]
          openai_base_url: https://api.openai.com/v1/chat/completions
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}
"""

ID = "unused-suppression"
SEVERITY = "warning"
SUMMARY = "an inline suppression that hides nothing"
