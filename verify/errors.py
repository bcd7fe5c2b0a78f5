"""Typed errors. Every message names the offending quantity, so a CLI can print it as one line."""


class SamVerifyError(ValueError):
    """Base class of every error the library raises on bad input or undecidable questions."""


class ZeroGradientError(SamVerifyError):
    """grad f(x) = 0 (or, rigorously, cannot be excluded), so u(x) = grad f / ||grad f|| is undefined."""


class NonFiniteError(SamVerifyError):
    """A NaN or an infinity appeared in an input or in an evaluated quantity."""


class InvalidRhoError(SamVerifyError):
    """The perturbation radius rho must be a finite number > 0."""


class ShapeError(SamVerifyError):
    """A point, direction or matrix has the wrong shape for the objective's dimension."""


class BackendError(SamVerifyError):
    """The objective cannot be evaluated in the requested arithmetic context."""


class ExpressionError(BackendError):
    """A string given as an expression or a number is outside the accepted grammar (strings are read
    as data by a whitelist parser, never run as Python code)."""


class UnknownSymbolError(ExpressionError):
    """An expression uses a symbol that is not among the declared variables."""


class OptionError(SamVerifyError):
    """An option or count is outside its documented range (precision digits, tolerances, sample
    counts, ...)."""


class PrecisionError(SamVerifyError):
    """A tolerance tighter than the context's precision can deliver was requested."""


class UndecidedError(SamVerifyError):
    """A rigorous (interval) comparison could not be decided: the enclosures overlap."""


class HypothesisError(SamVerifyError):
    """A theorem was asked to run on an objective that does not meet its hypotheses
    (for example a non-analytic objective given to an analytic-only theorem)."""


class ConvergenceError(SamVerifyError):
    """An iterative solver (Newton, continuation, Lanczos) did not reach its stated tolerance."""
