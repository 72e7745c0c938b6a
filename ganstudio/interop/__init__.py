"""Generators that travel: written as ONNX or TorchScript for other tools (``export``), and ONNX generators
made anywhere opened for the explorer (``onnx_generator``). Both speak through a JSON sidecar
(``G.onnx.json``) that says what the inputs mean and how the outputs are scaled."""
