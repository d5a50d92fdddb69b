"""The field's process models of function learning (DeLosh, Busemeyer & McDaniel 1997), on inputs and targets
scaled to [0, 1], vectorised over tasks.

ALM (associative learning model): input nodes on a grid x_i are activated by a_i = exp(-gamma (x - x_i)^2); output
nodes on a grid y_j get o_j = sum_i w_ji a_i; the response is the mean of the output grid weighted by the positive
outputs; after feedback y the weights learn by the delta rule towards the teacher f_j = exp(-gamma (y - y_j)^2):
w_ji += alpha (f_j - o_j) a_i. ALM interpolates between trained points but cannot answer beyond the trained outputs.

EXAM (extrapolation-association model): ALM's responses at trained inputs, plus linear extrapolation: a new input x
retrieves the nearest trained input x_k and answers y(x_k) + slope (x - x_k), the slope taken between the trained
inputs next to x_k (McDaniel & Busemeyer 2005).

gamma and alpha are set once (defaults below, on the [0, 1] scale); each model's predictive variance is the spread
of its output distribution plus the priors' noise, so that it has an NLL too.
"""
import torch

GRID = torch.linspace(0.0, 1.0, 51, dtype=torch.float64)
GAMMA, ALPHA = 200.0, 0.1  # alpha * sum_i a_i^2 (about 4.4 here) must stay below 2 for the delta rule
NOISE = 0.05 ** 2


class ALM:
    def __init__(self, num_tasks, gamma=GAMMA, alpha=ALPHA, grid=GRID):
        self.gamma, self.alpha, self.grid = gamma, alpha, grid
        self.w = torch.zeros(num_tasks, len(grid), len(grid), dtype=torch.float64)  # [S, outputs, inputs]

    def _activation(self, x):
        return torch.exp(-self.gamma * (x.double()[:, None] - self.grid[None]) ** 2)  # [S, I]

    def respond(self, x):
        """Mean and variance of the response to inputs x [S]; 0.5 and the grid's variance before any learning."""
        out = (self.w @ self._activation(x)[..., None])[..., 0].clamp_min(0)  # [S, J]
        total = out.sum(-1, keepdim=True)
        p = torch.where(total > 0, out / total.clamp_min(1e-300), torch.full_like(out, 1.0 / len(self.grid)))
        mean = (p * self.grid).sum(-1)
        return mean, (p * (self.grid - mean[:, None]) ** 2).sum(-1) + NOISE

    def learn(self, x, y, active=None):
        """One delta-rule step on (x [S], y [S]) for the tasks where ``active`` [S] is True (all by default)."""
        a = self._activation(x)
        teacher = torch.exp(-self.gamma * (y.double()[:, None] - self.grid[None]) ** 2)
        out = (self.w @ a[..., None])[..., 0]
        step = self.alpha * (teacher - out)[..., None] * a[:, None, :]
        if active is not None:
            step = step * active.double()[:, None, None]
        self.w = self.w + step


def extrapolate(x, trained_x, trained_y):
    """EXAM's answer at x [S] from trained inputs trained_x [S, N] and the responses retrieved for them,
    trained_y [S, N]: the nearest trained input's response plus the slope between the nearest distinct trained
    inputs below and above it (one side only at the edge of the trained range), times the distance to it."""
    x, tx, ty = x.double()[:, None], trained_x.double(), trained_y.double()
    take = lambda t, i: t.gather(1, i[:, None])[:, 0]  # noqa: E731
    k = (tx - x).abs().argmin(-1)
    x_near, y_near = take(tx, k), take(ty, k)
    below, above = tx < x_near[:, None], tx > x_near[:, None]
    i_lo = torch.where(below, tx, -torch.inf).argmax(-1)
    i_hi = torch.where(above, tx, torch.inf).argmin(-1)
    x_lo = torch.where(below.any(-1), take(tx, i_lo), x_near)
    y_lo = torch.where(below.any(-1), take(ty, i_lo), y_near)
    x_hi = torch.where(above.any(-1), take(tx, i_hi), x_near)
    y_hi = torch.where(above.any(-1), take(ty, i_hi), y_near)
    span = x_hi - x_lo
    slope = torch.where(span > 0, (y_hi - y_lo) / torch.where(span > 0, span, 1.0), 0.0)
    return y_near + slope * (x[:, 0] - x_near)


def online_predictions(x, y, model="alm", gamma=GAMMA, alpha=ALPHA):
    """Trial-by-trial predictions (mean, variance) [S, T] of ALM or EXAM: predict trial t, then learn from it."""
    S, T = x.shape
    alm = ALM(S, gamma, alpha)
    mean = torch.zeros(S, T, dtype=torch.float64)
    var = torch.zeros(S, T, dtype=torch.float64)
    for t in range(T):
        mean[:, t], var[:, t] = alm.respond(x[:, t])
        if model == "exam" and t >= 2:
            retrieved = torch.stack([alm.respond(x[:, k])[0] for k in range(t)], dim=1)
            mean[:, t] = extrapolate(x[:, t], x[:, :t], retrieved)
        alm.learn(x[:, t], y[:, t])
    return mean, var


def trained_responses(x_train, y_train, queries, model="alm", epochs=1, gamma=GAMMA, alpha=ALPHA):
    """Train on x_train, y_train [S, T] (``epochs`` passes in the given order), then answer queries [S, Q]
    without learning: (mean, variance) [S, Q]."""
    S, T = x_train.shape
    alm = ALM(S, gamma, alpha)
    for _ in range(epochs):
        for t in range(T):
            alm.learn(x_train[:, t], y_train[:, t])
    answers = [alm.respond(queries[:, q]) for q in range(queries.shape[1])]
    mean = torch.stack([a[0] for a in answers], 1)
    var = torch.stack([a[1] for a in answers], 1)
    if model == "exam":
        retrieved = torch.stack([alm.respond(x_train[:, k])[0] for k in range(T)], 1)
        mean = torch.stack([extrapolate(queries[:, q], x_train, retrieved) for q in range(queries.shape[1])], 1)
    return mean, var
