"""An inline suppression that does not name what it hides.

`# gym-scaffold: ignore[rule-id, ...]` hides the named rules' problems on its line (or, on
a line of its own, on the next line), and `# gym-scaffold: ignore-file[rule-id]` in the
whole file. A bare `ignore` would hide every rule, including the problems nobody has seen
yet, so it is refused, like a rule id that does not exist or an unknown directive. The
comment then hides nothing.

Failing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: https://api.openai.com/v1/chat/completions  # gym-scaffold: ignore
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}

Passing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: https://api.openai.com/v1/chat/completions  # gym-scaffold: ignore[base-url]
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}
"""

ID = "invalid-suppression"
SEVERITY = "error"
SUMMARY = "an inline suppression without rule ids, or with an unknown one"
