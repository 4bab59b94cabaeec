"""What the tests know of the real NeMo Gym sample: where it is, and its real bugs.

The sample is found through GYM_SCAFFOLD_CORPUS, else at ../shared/corpus/nemo-gym beside
this repository. Without it the corpus tests skip, with `needs_corpus`'s reason; with
GYM_SCAFFOLD_CORPUS set it must exist (conftest.py stops the run otherwise), so a run
that names the corpus never skips its tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("GYM_SCAFFOLD_CORPUS") or REPO.parent / "shared" / "corpus" / "nemo-gym")

CORPUS_PRESENT = (CORPUS / "FILES.txt").is_file()
NO_CORPUS = f"the NeMo Gym corpus is not at {CORPUS} (set GYM_SCAFFOLD_CORPUS; see the README's Tests)"
needs_corpus = pytest.mark.skipif(not CORPUS_PRESENT, reason=NO_CORPUS)

# Every real bug of the corpus README's list: file -> {(line, rule)}.
KNOWN_BUGS = {
    **{
        f"benchmarks/tau2/configs/{name}.yaml": {(10, "double-question-mark")}
        for name in ("tau2", "banking_alltools", "banking_bm25_grep_artificial_analysis", "banking_terminal_use")
    },
    "resources_servers/spartqa/configs/spartqa.yaml": {(24, "invalid-value"), (29, "invalid-value")},
    **{
        f"resources_servers/ns_tools/configs/ns_tools_{name}.yaml": {(3, "server-directory")}
        for name in ("arxiv", "coolprop", "particle", "periodictable", "radioactivedecay", "wikipedia")
    },
    "responses_api_agents/langgraph_agent/configs/reflection_agent.yaml": {(3, "server-directory")},
    "resources_servers/jailbreak_detection/configs/safety_judge_model.yaml": {
        (5, "placeholder-value"),
        (6, "placeholder-value"),
    },
    "responses_api_agents/mini_swe_agent_2/configs/mini_swe_agent_2.yaml": {(59, "duplicate-key")},
    "benchmarks/nemotron_3_ultra/benchmarks_no_external.yaml": {(9, "config-include")},
    # keys the server's config class does not declare and no code reads
    "resources_servers/cvdp/configs/cvdp.yaml": {(11, "unknown-key")},
    "resources_servers/swerl_gen/configs/swerl_gen.yaml": {(9, "unknown-key")},
    "resources_servers/jailbreak_detection/configs/jailbreak_detection_nemotron_combined_reward_tp8.yaml": {
        (32, "unknown-key")
    },
    "resources_servers/over_refusal_detection/configs/over_refusal_detection_nemotron.yaml": {(53, "unknown-key")},
    "resources_servers/terminal_multi_harness/configs/terminal_multi_harness_stirrup.yaml": {(8, "unknown-key")},
    **{
        f"responses_api_agents/swe_agents/configs/swebench_{name}.yaml": {(line, "unknown-key")}
        for name, line in (("multi_tools", 19), ("opencode", 19), ("opencode_training", 20), ("openhands", 16))
    },
    "responses_api_agents/swe_agents/configs/swebench_openhands_training.yaml": {
        (14, "unknown-key"),
        (66, "unknown-key"),
    },
    "responses_api_agents/verifiers_agent/configs/acereason-math.yaml": {
        (14, "unknown-key"),
        (15, "unknown-key"),
        (16, "unknown-key"),
    },
}
