"""Versioned prompts, in our own words, for the two generation stages of each domain.

Stage A (labels) asks for many experiments at once, one line each: named dimensions plus, per domain, two
real-world categories (categorisation), an output quantity (function learning) or a criterion on which
options are compared (decision making). Stage B (data) asks for one experiment's numbered rows of numbers.
The wording is ours; the content asked for follows the paper (its v5 prompts). A new wording gets a new version
number, so a corpus always names the exact prompt that made it (the version is part of every file name).
"""
DOMAINS = ("categorisation", "functionlearning", "decisionmaking")
VERSIONS = (5,)
DIMS = {"categorisation": (2, 3, 4, 6), "functionlearning": (1, 2, 3, 4), "decisionmaking": (2, 3, 4)}
NUM_DATA = {"categorisation": 100, "functionlearning": 25, "decisionmaking": 20}
CONDITIONS = {"decisionmaking": ("none", "ranked", "direction")}

_LABELS = {
    "categorisation": (
        "I am a psychologist planning category learning experiments. In each experiment people see stimuli that "
        "vary along {D} feature dimensions and learn to sort them into one of two categories. Please invent "
        "{N} different experiments with realistic, real-world stimuli. For each, name the {D} feature dimensions "
        "(each one must be measurable as a number) and the two real-world categories.\n"
        "Write exactly one experiment per line, numbered, and nothing else on the line:\n"
        "1. feature dimension 1, ..., feature dimension {D}, category 1, category 2"),
    "functionlearning": (
        "I am a psychologist planning function learning experiments. In each experiment people see {D} input "
        "quantity (or quantities) and learn to predict one output quantity that depends on them in the real "
        "world. Please invent {N} different experiments with realistic, measurable quantities.\n"
        "Write exactly one experiment per line, numbered, and nothing else on the line:\n"
        "1. input quantity 1, ..., input quantity {D}, output quantity"),
    "decisionmaking": (
        "I am a psychologist planning decision-making experiments. In each experiment people compare two "
        "real-world options of the same kind, described by {D} numeric cues, and choose the one that is higher "
        "on a criterion. Please invent {N} different experiments. For each, name the kind of option, the {D} "
        "cues and the criterion.{condition}\n"
        "Write exactly one experiment per line, numbered, and nothing else on the line:\n"
        "1. kind of option, cue 1, ..., cue {D}, criterion"),
}

_DM_CONDITIONS = {
    "none": "",
    "ranked": " List the cues in order of how strongly they predict the criterion, the strongest first.",
    "direction": " After each cue write (+) if a higher value means a higher criterion, or (-) if it means a lower one.",
}

_DATA = {
    "categorisation": (
        "I am a psychologist running a category learning experiment. Each stimulus has {D} features: {features}. "
        "Every stimulus belongs to one of two categories: {categories}. The category must be predictable from the "
        "features, as it would be in the real world. Please list {N} stimuli with realistic feature values. "
        "Every feature value must be a single number (no units, no words).\n"
        "Number the rows from 1 to {N}, one stimulus per row, without skipping any row, in exactly this form:\n"
        "1: {slots}, category label"),
    "functionlearning": (
        "I am a psychologist running a function learning experiment. People see {features} and predict "
        "{target}. Please list {N} observations with realistic values, as they would occur in the real world, "
        "where {target} depends on the input(s). Every value must be a single number (no units, no words).\n"
        "Number the rows from 1 to {N}, one observation per row, without skipping any row, in exactly this form:\n"
        "1: {slots}, {target}"),
    "decisionmaking": (
        "I am a psychologist running a decision-making experiment about {option}. Each option is described by "
        "{D} cues: {features}. People compare two options and choose the one with the higher {target}. Please "
        "list {N} different options with realistic cue values and their true {target}, as they would occur in "
        "the real world. Every value must be a single number (no units, no words).\n"
        "Number the rows from 1 to {N}, one option per row, without skipping any row, in exactly this form:\n"
        "1: {slots}, {target}"),
}

DEFAULT_CATEGORIES = ("A", "B")


def _check(domain, version):
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}")
    if version not in VERSIONS:
        raise ValueError(f"no prompt version {version} (have {', '.join(map(str, VERSIONS))})")


def tasklabel_prompt(domain, num_dim, num_tasks, version=5, condition="none"):
    """Stage A: one prompt asking for ``num_tasks`` experiments' names."""
    _check(domain, version)
    extra = _DM_CONDITIONS[condition] if domain == "decisionmaking" else ""
    return _LABELS[domain].format(D=num_dim, N=num_tasks, condition=extra)


def default_labels(domain, num_dim):
    """Names used when a run has no generated labels: generic features, categories A and B."""
    features = [f"feature {d + 1}" for d in range(num_dim)]
    return {"categorisation": {"feature_names": features, "category_names": list(DEFAULT_CATEGORIES)},
            "functionlearning": {"feature_names": features, "target_name": "output"},
            "decisionmaking": {"feature_names": features, "target_name": "value", "option": "options"}}[domain]


def task_prompt(domain, labels, num_data, version=5):
    """Stage B: one experiment's data. ``labels`` holds feature_names and the domain's other names."""
    _check(domain, version)
    features = [f.lower() for f in labels["feature_names"]]
    slots = ", ".join(f"value of {f}" for f in features)
    listed = ", ".join(features)
    if domain == "categorisation":
        categories = " or ".join(c.lower() for c in labels["category_names"])
        return _DATA[domain].format(D=len(features), features=listed, categories=categories, N=num_data, slots=slots)
    if domain == "functionlearning":
        return _DATA[domain].format(features=listed, target=labels["target_name"].lower(), N=num_data, slots=slots)
    return _DATA[domain].format(option=labels.get("option", "options").lower(), D=len(features), features=listed,
                                target=labels["target_name"].lower(), N=num_data, slots=slots)
