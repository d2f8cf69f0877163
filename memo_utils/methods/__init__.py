"""The papers' algorithms, one module each, built on :mod:`memo_utils.engine`: critical samples by
LASS (``lass``), loss-sensitivity through unrolled SGD (``sensitivity``), the Hessian's top eigenvalue
(``hessian``), regularizers (``regularization``), turn-over dropout (``turn_over``) and the influence
estimators it is checked against (``influence``), and the dissection's gradient magnitude, DCGAN and
activation maximization (``dissection``). Each is tested against an exact answer on a small case."""
