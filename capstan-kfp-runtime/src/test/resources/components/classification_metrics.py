
import kfp
from kfp import dsl
from kfp.dsl import *
from typing import *

def evaluate(
    threshold: float,
    metrics: Output[ClassificationMetrics],
    scalars: Output[Metrics],
    sliced: Output[SlicedClassificationMetrics],
) -> NamedTuple('Outputs', [('passed', bool), ('summary', Dict[str, float])]):
    metrics.log_confusion_matrix(['cat', 'dog'], [[8, 2], [1, 9]])
    metrics.log_roc_curve(fpr=[0.0, 0.5, 1.0], tpr=[0.0, 0.8, 1.0], threshold=[1.0, 0.5, 0.0])
    scalars.log_metric('accuracy', 0.85)
    scalars.log_metric('nan_loss', float('nan'))
    sliced.load_confusion_matrix('all', ['cat', 'dog'], [[1, 0], [0, 1]])
    from collections import namedtuple
    return namedtuple('Outputs', ['passed', 'summary'])(0.85 >= threshold, {'accuracy': 0.85})
