"""Local differential privacy on a site's update, with Flower's own functions (what ``LocalDpMod`` does).

The update (sent trunk − received trunk) is clipped to L2 norm ``C`` over all arrays, then Gaussian noise with
``σ = C · √(2 ln(1.25/δ)) / ε`` is added to every value sent (the Gaussian mechanism with sensitivity ``C``).
Each round's update is then (ε, δ)-differentially private with respect to the site's whole data set (one site's
contribution is bounded by ``C``, whatever its rows); over R rounds, basic composition gives (R·ε, R·δ). The
classical bound behind this σ holds for ε < 1.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["noise_std", "private_update"]


def noise_std(clip_norm: float, epsilon: float, delta: float) -> float:
    """The Gaussian mechanism's standard deviation for sensitivity ``clip_norm``."""
    return clip_norm * math.sqrt(2 * math.log(1.25 / delta)) / epsilon


def private_update(
    received: list[np.ndarray], trained: list[np.ndarray], *, clip_norm: float, epsilon: float, delta: float
) -> list[np.ndarray]:
    """``trained`` with its update clipped to ``clip_norm`` and Gaussian noise added (Flower's
    ``compute_clip_model_update`` and ``add_localdp_gaussian_noise_to_params``); ``received`` is the global trunk."""
    from flwr.common import ndarrays_to_parameters, parameters_to_ndarrays
    from flwr.supercore.differential_privacy import add_localdp_gaussian_noise_to_params, compute_clip_model_update

    arrays = [np.array(a, dtype=np.float64) for a in trained]
    start = [np.asarray(a, dtype=np.float64) for a in received]
    if any(np.any(a != b) for a, b in zip(arrays, start)):  # Flower's clip divides by the update's norm
        compute_clip_model_update(arrays, start, clip_norm)
    noisy = add_localdp_gaussian_noise_to_params(ndarrays_to_parameters(arrays), clip_norm, epsilon, delta)
    return [a.astype(t.dtype) for a, t in zip(parameters_to_ndarrays(noisy), trained)]
