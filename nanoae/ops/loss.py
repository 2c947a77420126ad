"""Losses fused into one op, where the derivative of the whole is simpler than
the chain of its parts (as PyTorch does for the same loss)."""
from nanoae import backend
from nanoae.autograd import Function, ShapeError, Tensor, is_grad_enabled, operands
from nanoae.ops.elementwise import exp, sigmoid, sigmoid_array, softplus_array
from nanoae.ops.reduction import logsumexp, logsumexp_shift
from nanoae.ops.shape import reshape


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

    Computed in few passes. Both softplus share their hard part:
    softplus(z) = max(z, 0) + ln(1 + e^-|z|) and softplus(-z) = max(-z, 0) + ln(1 + e^-|z|),
    and t + (1 - t) = 1, so

        l = ln(1 + e^-|z|) + t max(-z, 0) + (1 - t) max(z, 0).

    For z >= 0 the last two terms are (1 - t) z and 0; for z < 0 they are 0 and
    -t z; in both cases the larger of (1 - t) z and -t z, since the other is <= 0
    (for t in [0, 1]). So

        l = ln(1 + e^-|z|) - min((t - 1) z, t z),

    one exp and one log for both softplus, each product rounded once and
    nothing subtracted that could cancel: nine passes over the array, in
    place. The 0 * inf of an infinite logit gives NaN there; the forward then
    looks at the sum (one number) and only if it is NaN computes the slower
    form, which replaces a softplus by 0 where its weight is 0 before
    multiplying (:meth:`_with_infinite_logits`). The GPU always uses that one:
    asking whether the sum is NaN would make the CPU wait for the GPU.

    ``summed=True`` returns the sum over all elements instead of the array,
    which is what a VAE's loss needs: one op instead of two, and its backward
    multiplies by one number instead of by the upstream gradient broadcast to
    the whole array.

    The gradient: d softplus(z)/dz = sigmoid(z) and sigmoid(-z) = 1 - sigmoid(z), so
    dl/dz = -t (1 - sigmoid(z)) + (1 - t) sigmoid(z) = sigmoid(z) - t, which is
    1 - t at z = +inf and -t at z = -inf. As one op, the gradient is one
    subtraction instead of a pass through each part. Unless it is to be
    differentiated again (``create_graph``), backward computes it on arrays, in
    place: three graph ops fewer per step, which a small model notices.
    """

    def __init__(self, summed=False):
        self.summed = summed

    def forward(self, z, t):
        xp = self.xp
        if backend.device_of(z) == "gpu":
            loss = self._with_infinite_logits(z, t)
            return loss.sum() if self.summed else loss
        loss = self._finite_logits(z, t)
        total = loss.sum()
        if xp.isnan(total):   # an infinite logit (0 * inf), or a NaN among the inputs
            loss = self._with_infinite_logits(z, t)
            total = loss.sum()
        return total if self.summed else loss

    def _finite_logits(self, z, t):
        xp = self.xp
        with backend.nonfinite_ignored(xp):     # an infinite z gives NaN here, and the caller sees it
            loss = xp.abs(z)
            xp.negative(loss, out=loss)
            xp.exp(loss, out=loss)
            xp.log1p(loss, out=loss)            # ln(1 + e^-|z|), in [0, ln 2]
            linear = t - 1
            linear *= z                         # (t - 1) z
            xp.minimum(linear, t * z, out=linear)
            loss -= linear                      # + max((1 - t) z, -t z)
        return loss

    def _with_infinite_logits(self, z, t):
        xp = self.xp
        # Where a weight is 0, its softplus is replaced by 0 before the multiply,
        # so the term is 0 even where that softplus is inf (0 * inf would be NaN).
        minus_log_p = xp.where(t == 0, 0, softplus_array(xp, -z))
        minus_log_1_minus_p = xp.where(t == 1, 0, softplus_array(xp, z))
        return t * minus_log_p + (1 - t) * minus_log_1_minus_p

    def backward(self, gl):
        need_z, need_t = [x.requires_grad for x in self.inputs]
        g, z, t = operands(gl, *self.inputs)    # g: one number if summed, else the shape of z
        gt = g * -z if need_t else None
        if not need_z:
            return None, gt
        if is_grad_enabled():
            # create_graph: this gradient will be differentiated again, so it is built of ops.
            return g * (sigmoid(z) - t), gt
        gz = sigmoid_array(self.xp, z)          # on arrays, in place
        gz -= t
        gz *= g
        return gz, gt


def bce_with_logits(z, t, summed=False):
    """Element-wise BCE of sigmoid(z) against t, or its sum (``F.binary_cross_entropy_with_logits``
    chooses by the reduction)."""
    return BCEWithLogits(summed)(z, t)


class CrossEntropy(Function):
    """l_n = -log softmax(z_n)[t_n] = logsumexp(z_n) - z_n[t_n]: the cross-entropy of row n of the logits z (N, C)
    against its integer class t_n.

    dl_n/dz_n = softmax(z_n) - onehot(t_n).

    Derivation. d logsumexp(z)/dz_c = e^{z_c} / sum_j e^{z_j} = softmax(z)_c, and
    d z_t / dz_c is 1 for c = t and 0 otherwise.

    Why one op. Composed as ``-log_softmax(z)[rows, t]`` the same numbers take
    about eight passes over the (N, C) logits forward and as many backward,
    and the backward of the indexing scatters into a fresh (N, C) array of
    zeros. Here the forward is max, subtract, exp and sum over the logits, and
    the backward the softmax again from the saved logsumexp, minus 1 at each
    row's class, times the upstream gradient. For chapter 15's prior (logits of
    12,544 places x 512 codes, float32) forward and backward take 21 ms
    instead of 38 on the 2-core machine of the README.

    Stable as ``logsumexp``: the row's maximum m is subtracted before the exp
    (m = 0 where it is infinite, as there).
    """

    def __init__(self, target):
        self.target = target                                            # (N,) integer array

    def forward(self, z):
        xp = self.xp
        m = logsumexp_shift(xp, z, axis=1)                                # (N, 1): each row's maximum
        e = z - m
        xp.exp(e, out=e)                                                  # e^(z - m), in place: one (N, C) array
        self.lse = xp.log(e.sum(axis=1, keepdims=True)) + m               # (N, 1): logsumexp of each row
        return self.lse[:, 0] - z[xp.arange(len(z)), self.target]

    def backward(self, gl):
        (z,) = self.inputs
        xp, rows = self.xp, self.xp.arange(z.shape[0])
        gl_column = reshape(gl, (-1, 1))                                  # (N, 1)
        if is_grad_enabled():
            # create_graph: this gradient will be differentiated again, so it is built of ops.
            one_hot = xp.zeros(z.shape, dtype=z.dtype)
            one_hot[rows, self.target] = 1
            softmax = exp(z - logsumexp(z, axis=1, keepdims=True))
            return (softmax - Tensor(one_hot)) * gl_column
        gz = z.data - self.lse
        xp.exp(gz, out=gz)                                                # softmax, from the forward's logsumexp
        gz[rows, self.target] -= 1                                        # minus the one-hot of the classes
        gz *= gl_column.data
        return Tensor(gz)


def cross_entropy(z, target):
    """The cross-entropy of each row of logits z (N, C) against integer classes ``target`` (N,), an array:
    (N,). ``F.cross_entropy`` checks the classes and adds the reduction."""
    return CrossEntropy(target)(z)


class NegativeSampling(Function):
    """Skip-gram's negative-sampling loss for B centres, summed over the batch:

        L = sum_b [ softplus(-s_b0) + sum_{t >= 1} softplus(s_bt) ],   s_bt = u_b . v_bt

    u (B, D) are the centres' input vectors; v (B, 1 + k, D) the output vectors
    of each centre's true context (t = 0) and its k noise words. softplus(-s) =
    -log sigmoid(s): the true context should score high, the noise low.

    dL/ds_bt = sigmoid(s_bt) - label_t   (label 1 for t = 0, 0 for the noise),
    dL/du_b  = sum_t (sigmoid(s_bt) - label_t) v_bt,    dL/dv_bt = (sigmoid(s_bt) - label_t) u_b.

    One op rather than the chain multiply, sum, softplus, sum: the scores are
    one contraction, and the (B, 1 + k, D) products of that chain are never made
    in the forward pass. This is the gradient word2vec's C code writes by hand.
    """

    def forward(self, u, v):
        xp = self.xp
        s = xp.einsum("bd,btd->bt", u, v)                                  # (B, 1 + k)
        sign = xp.full(s.shape[1], -1, dtype=s.dtype)
        sign[0] = 1                                                        # y = +1 for the context, -1 for noise
        self.scores = s
        return softplus_array(xp, -sign * s).sum()

    def backward(self, gl):
        u, v = self.inputs
        u_b = reshape(u, (u.shape[0], 1, u.shape[1]))                       # (B, 1, D)
        # The saved scores are constants; to differentiate this backward again
        # (create_graph), they are computed again from u and v as tensors.
        s = (v * u_b).sum(axis=2) if is_grad_enabled() else Tensor(self.scores)
        label = self.xp.zeros(s.shape[1], dtype=s.dtype)
        label[0] = 1
        error = (sigmoid(s) - Tensor(label)) * gl                           # (B, 1 + k): dL/ds
        error = reshape(error, error.shape + (1,))                          # (B, 1 + k, 1)
        gu = reshape((error * v).sum(axis=1), u.shape) if u.requires_grad else None
        gv = error * u_b if v.requires_grad else None
        return gu, gv


def negative_sampling_loss(u, v):
    """The summed negative-sampling loss of centres u (B, D) against targets v (B, 1 + k, D), true context first."""
    if u.ndim != 2 or v.ndim != 3 or v.shape[0] != u.shape[0] or v.shape[2] != u.shape[1]:
        raise ShapeError(f"negative_sampling_loss: u must be (B, D) and v (B, 1 + k, D), got {u.shape} and {v.shape}")
    return NegativeSampling()(u, v)
