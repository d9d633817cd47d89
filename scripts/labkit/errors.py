class LabkitError(Exception):
    """A problem the learner can act on: the message says what happened and what to do next."""
