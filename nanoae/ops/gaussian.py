"""The VAE's two Gaussian pieces, each one op with its derivative written out.

Both could be composed from exp, mul and add, and give the same numbers; as
single ops they are one step each in the graph instead of four to eight, and
their backward shows the derivative a student derives by hand.
"""
from nanoae.autograd import Function, is_grad_enabled, operands
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
        need_mu, need_log_var, need_eps = [x.requires_grad for x in self.inputs]
        # On tensors, as it needs exp: rarely asked for, since the noise is data.
        g_eps = gz * exp(0.5 * self.inputs[1]) if need_eps else None
        gz, mu, z = operands(gz, self.inputs[0], self.output)
        g_mu = gz if need_mu else None
        g_log_var = gz * (z - mu) * 0.5 if need_log_var else None
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
        need_mu, need_log_var = [x.requires_grad for x in self.inputs]
        gkl, mu, log_var = operands(gkl, *self.inputs)     # gkl: one number if summed
        var = exp(log_var) if is_grad_enabled() else self.xp.exp(log_var)   # exp: an op, or NumPy's
        g_mu = gkl * mu if need_mu else None
        g_log_var = gkl * (var - 1) * 0.5 if need_log_var else None
        return g_mu, g_log_var


def reparameterize(mu, log_var, eps):
    return Reparameterize()(mu, log_var, eps)


def gaussian_kl(mu, log_var, summed=False):
    return GaussianKL(summed)(mu, log_var)
