"""VP schedule of ALGORITHM.md §1.1: β(τ) = 0.1 + 19.9τ, x_τ = μ_τ x₀ + σ_τ ε."""

import torch

BETA_MIN, BETA_MAX = 0.1, 20.0


def b(tau):
    """∫₀^τ β = 0.1τ + 9.95τ²."""
    return BETA_MIN * tau + 0.5 * (BETA_MAX - BETA_MIN) * tau * tau


def mu_sigma(tau):
    """(μ_τ, σ_τ) for a tensor τ; σ via expm1 so it stays accurate for small τ."""
    bt = b(tau)
    return torch.exp(-0.5 * bt), torch.sqrt(-torch.expm1(-bt))
