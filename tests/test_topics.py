"""Loose topic names resolve to the right note; nonsense gets suggestions, not a guess."""

import pytest


@pytest.mark.parametrize(("name", "note"), [
    ("batchnorm", "normalization"), ("batch norm", "normalization"),
    ("adam vs sgd", "optimizers"), ("kv caching", "kv-cache"), ("kv cache", "kv-cache"),
    ("bias variance", "bias-variance"), ("xgboost", "xgboost"), ("LoRA", "fine-tuning-peft"),
    ("gradiant boosting", "gradient-boosting"), ("zero stage 3", "zero-fsdp"),
    ("p-values", "hypothesis-testing"), ("reciprocal rank fusion", "hybrid-retrieval"),
])
def test_loose_names_resolve(knowledge, name, note):
    assert knowledge.resolver.resolve(name).note_id == note


def test_nonsense_gets_no_guess(knowledge):
    result = knowledge.resolver.resolve("zzqx flurb")
    assert result.note_id is None


def test_domain_filter(knowledge):
    hits = knowledge.retriever.search("loss function", k=5, domain="statistics")
    assert hits and all(p.chunk.domain == "statistics" for p in hits)
