"""How networks train, on the CPU and the GPU: the papers' networks (``models``), the closed-form
ReLU-MLP maths (``mlp``), the three SGD engines (``ensemble``: K MLPs as one batched computation;
``training``: one network, the reference loop; ``stacked``: K CNNs under ``vmap``), CUDA graphs
(``graphs``), per-example gradients, devices, datasets and their noise (``data``), and the memory a
computation needs (``memory``). It imports nothing above it."""
