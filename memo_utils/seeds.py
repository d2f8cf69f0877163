"""Where every random draw's seed comes from.

A run's randomness is fixed by the chapter's ``seed`` (or ``seeds``) parameter; the rules below
derive the seeds of its parts from it, so that different purposes never share a stream and
results are the same on every device (generators are CPU ``torch.Generator``s).
"""

RUNS_PER_SEED = 1000  # run k of a figure with seed s is initialised and shuffled from s * 1000 + k
EPOCH_STRIDE = 100_003  # model seed m visits the data in epoch e in the order of seed m * 100_003 + e
NOISE_OFFSET = 10_000  # the label or input noise of seed s is drawn from seed 10_000 + s
SAMPLED_STEPS = 1_000_003  # the steps t at which loss-sensitivity is sampled (shared by all runs)


def runs(seed, n_runs):
    """Seeds of the ``n_runs`` independent runs (initialisation and data order) of a figure."""
    return [seed * RUNS_PER_SEED + k for k in range(n_runs)]


def epoch_order(model_seed, epoch):
    return model_seed * EPOCH_STRIDE + epoch


def noise(seed):
    return NOISE_OFFSET + seed


def sampled_steps(seed):
    """The stream that draws seed ``seed``'s sampled steps t of loss-sensitivity: its own per seed, so that the
    seed-to-seed spread of every estimate includes the noise of estimating an average over t from a sample."""
    return SAMPLED_STEPS + seed


def subsampling_models(seed, models):
    """Seeds (initialisation and data order) of the ``models`` networks of the subsampling influence estimator.
    They use the stride of :func:`epoch_order`, so model k's integer equals the data order of model ``seed`` in
    epoch k: two purposes (an initialisation, an order) of different networks, kept as they are because results
    were computed with them."""
    return [seed * EPOCH_STRIDE + k for k in range(models)]


LASS_NOISE = 2_000_003  # the Langevin noise of LASS at epoch e (Arpit Algorithm 1), the same in every cell


def lass_noise(epoch, on_training_set=False):
    """Seed of the LASS noise of a CSR measurement after ``epoch``: the same in every cell, so that model k of
    one dataset and model k of another search with the same draws."""
    return LASS_NOISE + 10_000 * epoch + (5_000 if on_training_set else 0)


LASS_NOISE_OF_SEED = 5_000_003  # the LASS noise of replicate seed s when each seed searches with its own draws


def lass_noise_of_seed(seed):
    """Seed of the LASS noise of replicate ``seed`` (its chunks add up to 999): the spread over seeds then includes
    the search's own noise (memo_utils.experiments.measure_agreement)."""
    return LASS_NOISE_OF_SEED + 1_000 * seed


REGULARIZATION_NOISE = 3_000_003  # the dropout masks, noise and LASS draws of a regularized network of seed s


def regularization_noise(seed):
    return REGULARIZATION_NOISE + seed


GAN = 4_000_003  # the DCGAN's initialisation, data order and codes (Gu & Tresp section 4): one GAN per run
GAN_CODES = 4_100_003  # the starting codes of activation maximization, the same for every class and network
