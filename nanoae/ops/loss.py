"""Losses fused into one op, where the derivative of the whole is simpler than
the chain of its parts (as PyTorch does for the same loss)."""
from nanoae.autograd import Function
from nanoae.ops.elementwise import sigmoid, softplus_array


class BCEWithLogits(Function):
    """l = t softplus(-z) + (1 - t) softplus(z): the binary cross-entropy of sigmoid(z) against t, per element.

    dl/dz = sigmoid(z) - t,   dl/dt = softplus(-z) - softplus(z) = -z.

    Derivation. With p = sigmoid(z) = 1 / (1 + e^-z):

        -ln p       = ln(1 + e^-z) = softplus(-z)
        -ln(1 - p)  = ln(1 + e^z)  = softplus(z)      (1 - p = e^-z / (1 + e^-z))

    so -(t ln p + (1 - t) ln(1 - p)) = t softplus(-z) + (1 - t) softplus(z).
    Since softplus(-z) = softplus(z) - z, this is also the textbook
    softplus(z) - t z, but that form subtracts: at z = +inf and t = 1 it is
    inf - inf = NaN, where the loss is 0. The form used here adds two terms
    that are both >= 0, so nothing cancels, for finite z either. Its one
    undefined case is a zero weight times an infinite softplus (t = 1 at
    z = +inf, t = 0 at z = -inf): that term is 0, the convention 0 ln 0 = 0
    of the entropy and the limit of t softplus(-z) as z -> inf with t = 1. So

        z = +inf:  l = 0 for t = 1, +inf for t < 1
        z = -inf:  l = 0 for t = 0, +inf for t > 0

    The gradient: d softplus(z)/dz = sigmoid(z) and sigmoid(-z) = 1 - sigmoid(z), so
    dl/dz = -t (1 - sigmoid(z)) + (1 - t) sigmoid(z) = sigmoid(z) - t, which is
    1 - t at z = +inf and -t at z = -inf. As one op, the gradient is one
    subtraction instead of a pass through each part.
    """

    def forward(self, z, t):
        xp = self.xp
        # Where a weight is 0, its softplus is replaced by 0 before the multiply,
        # so the term is 0 even where that softplus is inf (0 * inf would be NaN).
        minus_log_p = xp.where(t == 0, 0, softplus_array(xp, -z))
        minus_log_1_minus_p = xp.where(t == 1, 0, softplus_array(xp, z))
        return t * minus_log_p + (1 - t) * minus_log_1_minus_p

    def backward(self, gl):
        z, t = self.inputs
        gz = gl * (sigmoid(z) - t) if z.requires_grad else None
        gt = gl * -z if t.requires_grad else None
        return gz, gt


def bce_with_logits(z, t):
    """Element-wise BCE of sigmoid(z) against t (``F.binary_cross_entropy_with_logits`` adds the reduction)."""
    return BCEWithLogits()(z, t)
