"""An inline suppression that hides nothing.

`# gym-scaffold: ignore[rule-id]` stays in a file long after the problem it hid was
fixed, and then hides the next, unrelated problem of that rule on the same line. Each rule
a suppression names must hide a problem where it stands, or the suppression is reported
here. A rule the project configuration turns off (`ignore`, `select`, `per-file-ignores`,
`severity = "off"`) or that the command line leaves out hides nothing either way and is
not reported. Nor is anything in a `--config` run: a suppression is written for what
`validate` reports of a file on its own (the pre-commit hook, a whole checkout), and a
run that combines the file with others may not meet that problem. Settled after every
other rule, in gym_scaffold/settle/.

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
