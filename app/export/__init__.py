"""ONNX export of the GLM-4.1V vision encoder, for onnxruntime on edge devices (not answer exports).

- ``preprocess.py`` — the image processor's steps and the grid-dependent inputs, numpy only;
- ``vision.py`` — ``VisionTowerExport``: the tower with grid-dependent tensors as inputs;
- ``loading.py`` — only the vision tower's weights from a checkpoint directory;
- ``onnx_export.py`` — export (dynamo, TorchScript fallback), metadata, parity check;
- ``quantize.py`` — INT8 dynamic quantization (onnxruntime.quantization);
- ``runner.py`` — page image → visual features with onnxruntime.

ONNX inputs (one image per run; N patches, a multiple of merge² = 4):
``pixel_values`` (N, 1176) float32, ``position_ids`` (N, 2) int64, ``pos_sample_grid`` (N, 2)
float32; output ``image_features`` (N/4, out_hidden_size) float32. ``preprocess.encoder_inputs``
computes the last two from the grid. Heavy imports (torch, onnx, onnxruntime) are lazy.
"""
