"""Adam with a smaller learning rate for the transformer than for the heads.

The NER and relation heads start from random weights and need a rate around 1e-3; the
pretrained encoder layers forget what they know at that rate. thinc keys a PyTorch
parameter by its torch name, so the encoder's parameters are told apart by name.
"""
from thinc.api import Optimizer, registry
from thinc.optimizers import FloatOrSeq
from thinc.types import FloatsXd


class TransformerScaledOptimizer(Optimizer):
    def __init__(self, *args, transformer_lr_scale: float = 1.0, transformer_prefix: str = "encoder.", **kwargs):
        super().__init__(*args, **kwargs)
        self.transformer_lr_scale = transformer_lr_scale
        self.transformer_prefix = transformer_prefix

    def __call__(self, key: tuple[int, str], weights: FloatsXd, gradient: FloatsXd, *, lr_scale: float = 1.0):
        if isinstance(key[1], str) and key[1].startswith(self.transformer_prefix):
            lr_scale *= self.transformer_lr_scale
        return super().__call__(key, weights, gradient, lr_scale=lr_scale)


@registry.optimizers("pipeline.Adam.v1")
def scaled_adam(
    learn_rate: FloatOrSeq,
    transformer_lr_scale: float = 0.1,
    L2: float = 0.01,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    grad_clip: float = 1.0,
    L2_is_weight_decay: bool = True,
    use_averages: bool = False,
) -> Optimizer:
    """thinc's Adam; the transformer's parameters get learn_rate × transformer_lr_scale."""
    return TransformerScaledOptimizer(
        learn_rate,
        L2=L2,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        grad_clip=grad_clip,
        L2_is_weight_decay=L2_is_weight_decay,
        use_averages=use_averages,
        use_radam=False,
        transformer_lr_scale=transformer_lr_scale,
    )
