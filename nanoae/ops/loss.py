"""Losses fused into one op, where the derivative of the whole is simpler than
the chain of its parts (as PyTorch does for the same loss)."""
from nanoae.autograd import Function
from nanoae.ops.elementwise import sigmoid, softplus_array


class BCEWithLogits(Function):
    """l = softplus(z) - t z: the binary cross-entropy of sigmoid(z) against t, per element.

    dl/dz = sigmoid(z) - t,   dl/dt = -z.

    Why softplus(z) - t z: -ln sigmoid(z) = softplus(z) - z and
    -ln(1 - sigmoid(z)) = softplus(z), so -(t ln p + (1 - t) ln(1 - p)) with
    p = sigmoid(z) is softplus(z) - t z, finite for every z. As one op, its
    gradient is one subtraction instead of a pass through each part.
    """

    def forward(self, z, t):
        return softplus_array(self.xp, z) - t * z

    def backward(self, gl):
        z, t = self.inputs
        gz = gl * (sigmoid(z) - t) if z.requires_grad else None
        gt = gl * -z if t.requires_grad else None
        return gz, gt


def bce_with_logits(z, t):
    """Element-wise BCE of sigmoid(z) against t (``F.binary_cross_entropy_with_logits`` adds the reduction)."""
    return BCEWithLogits()(z, t)
