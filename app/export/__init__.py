"""ONNX export of the GLM-4.1V vision encoder, for onnxruntime on edge devices (not answer exports).

- ``vision.py`` — ``VisionTowerExport``: the tower with grid-dependent tensors as inputs;
- ``loading.py`` — only the vision tower's weights from a checkpoint directory;
- ``onnx_export.py`` — export (dynamo, TorchScript fallback), metadata, parity check;
- ``quantize.py`` — INT8 dynamic quantization (onnxruntime.quantization).

The runtime side lives next to the VLM reader, which uses it (``GLYPH_VISION_ONNX``), so that no
reader imports this tool package: ``app.readers.vlm.onnx_preprocess`` (the image processor's
steps and the grid-dependent inputs, numpy only), ``app.readers.vlm.onnx_runner`` (page image →
visual features with onnxruntime) and ``app.readers.vlm.onnx_engine`` (the reader's engine with
the ONNX vision encoder). Errors are ``app.errors.ExportError``.

ONNX inputs (one image per run; N patches, a multiple of merge² = 4):
``pixel_values`` (N, 1176) float32, ``position_ids`` (N, 2) int64, ``pos_sample_grid`` (N, 2)
float32; output ``image_features`` (N/4, out_hidden_size) float32.
``onnx_preprocess.encoder_inputs`` computes the last two from the grid. Heavy imports (torch, onnx, onnxruntime) are lazy.
"""
