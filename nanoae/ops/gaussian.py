"""The VAE's two Gaussian pieces, each one op with its derivative written out.

Both could be composed from exp, mul and add, and give the same numbers; as
single ops they are one step each in the graph instead of four to eight, and
their backward shows the derivative a student derives by hand.
"""
from nanoae.autograd import Function, Tensor, operands
from nanoae.ops.elementwise import exp


class Reparameterize(Function):
    """z = mu + exp(log_var / 2) * eps: a sample of N(mu, exp(log_var)) for eps ~ N(0, 1).

    dz/dmu = 1,   dz/dlog_var = exp(log_var / 2) * eps / 2 = (z - mu) / 2,   dz/deps = exp(log_var / 2).

    The noise eps is an input like the others, drawn by the caller, so that z
    is a differentiable function of mu and log_var (the reparameterization trick).
    """

    def forward(self, mu, log_var, eps):
        return mu + self.xp.exp(0.5 * log_var) * eps

    def backward(self, gz):
        mu, log_var, eps = self.inputs
        g_eps = gz * exp(0.5 * log_var) if eps.requires_grad else None   # rarely asked for: the noise is data
        g, m, z = operands(gz, mu, self.output)
        g_mu = g if mu.requires_grad else None
        g_log_var = g * (z - m) * 0.5 if log_var.requires_grad else None
        return g_mu, g_log_var, g_eps


class GaussianKL(Function):
    """KL( N(mu, exp(log_var)) || N(0, 1) ) per element, in closed form:

        kl = (mu^2 + exp(log_var) - 1 - log_var) / 2

    dkl/dmu = mu,   dkl/dlog_var = (exp(log_var) - 1) / 2.

    Zero exactly at the prior (mu = 0, log_var = 0), positive elsewhere.
    ``summed=True`` returns the sum over all elements, as a VAE's loss uses it
    (one op instead of two; the gradient of the sum is one number).
    """

    def __init__(self, summed=False):
        self.summed = summed

    def forward(self, mu, log_var):
        kl = 0.5 * (mu * mu + self.xp.exp(log_var) - 1 - log_var)
        return kl.sum() if self.summed else kl

    def backward(self, gkl):
        mu, log_var = self.inputs
        g, m, lv = operands(gkl, mu, log_var)          # g: one number if summed
        var = exp(lv) if isinstance(lv, Tensor) else self.xp.exp(lv)
        g_mu = g * m if mu.requires_grad else None
        g_log_var = g * (var - 1) * 0.5 if log_var.requires_grad else None
        return g_mu, g_log_var


def reparameterize(mu, log_var, eps):
    return Reparameterize()(mu, log_var, eps)


def gaussian_kl(mu, log_var, summed=False):
    return GaussianKL(summed)(mu, log_var)
