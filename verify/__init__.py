"""sam-verify: checks of the theorems on hallucinated minimizers of SAM (re-exports only)."""
from .core import sam
from .objectives import zoo
from .core.classify import Classification, classify
from .ctx import get_context
from .errors import (BackendError, ConvergenceError, HypothesisError, InvalidRhoError, NonFiniteError,
                     PrecisionError, SamVerifyError, ShapeError, UndecidedError, UnknownSymbolError,
                     ZeroGradientError)
from .objectives.objective import AutogradObjective, Objective, SympyObjective, TorchObjective, objective_from
from .core.results import Certificate, Claim, Finding, Hypothesis, Verdict

__all__ = [
    "sam", "zoo", "classify", "Classification", "get_context", "Objective", "SympyObjective",
    "AutogradObjective", "TorchObjective", "objective_from", "Certificate", "Claim", "Finding",
    "Hypothesis", "Verdict", "SamVerifyError", "ZeroGradientError", "NonFiniteError",
    "InvalidRhoError", "ShapeError", "UnknownSymbolError", "PrecisionError", "UndecidedError",
    "HypothesisError", "BackendError", "ConvergenceError",
]
