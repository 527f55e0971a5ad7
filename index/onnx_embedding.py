"""The default model run by ONNX Runtime instead of torch: the same multilingual-e5-small
weights, exported once (fp32) next to the model folder. Same vectors (cosine 1.0 to four
decimals), about twice as fast a query on this CPU, and no torch import to answer."""

import json
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.embedding import EmbeddingModelError, in_length_order

ONNX_FILE = "onnx/model.onnx"


def export_onnx(folder: Path) -> Path:
    """Export the transformer of the sentence-transformers `folder` to ONNX once (atomic)."""
    target = folder / ONNX_FILE
    if target.is_file():
        return target
    import torch
    from transformers import AutoModel

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    model = LastHiddenState(AutoModel.from_pretrained(str(folder)).eval())
    example = (torch.tensor([[0, 6, 2]]), torch.ones(1, 3, dtype=torch.long))
    axes = {0: "batch", 1: "tokens"}
    target.parent.mkdir(exist_ok=True)
    handle, staging = tempfile.mkstemp(suffix=".onnx", dir=target.parent)
    os.close(handle)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as fixed
            torch.onnx.export(
                model,
                example,
                staging,
                input_names=["input_ids", "attention_mask"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
                opset_version=17,
                dynamo=False,
            )
        os.replace(staging, target)
    finally:
        Path(staging).unlink(missing_ok=True)
    return target


class OnnxEmbedder:
    """A sentence-transformers folder (transformer, mean pooling, normalisation, prompts) run
    by ONNX Runtime; gives token vectors too, for the reader."""

    def __init__(
        self,
        model_id: str,
        folder: Path,
        batch_size: int = 32,
        threads: int = 1,
        device: str = "cpu",
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
                raise EmbeddingModelError(
                    "device 'cuda' asked, but this ONNX Runtime has no CUDA provider: install "
                    "onnxruntime-gpu, or use DEPECHE_ENCODER=torch with a CUDA build of torch"
                )
            providers.insert(0, "CUDAExecutionProvider")
        self.model_id = model_id
        self.batch_size = batch_size
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(export_onnx(folder)), options, providers=providers
        )
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(config["max_seq_length"])
        self._tokenizer.enable_padding(pad_id=self._tokenizer.token_to_id("<pad>"))
        st_config = folder / "config_sentence_transformers.json"
        prompts = json.loads(st_config.read_text(encoding="utf-8")).get("prompts", {})
        self._query_prompt = prompts.get("query", "")
        self._passage_prompt = prompts.get("passage", "")
        self.dimension = int(self._session.get_outputs()[0].shape[-1])  # the hidden size

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.embed_passages_with_tokens(texts, progress)[0]

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_query_tokens(text)[0]

    def embed_query_tokens(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        vectors, tokens = self._forward([self._query_prompt + text])
        return vectors[0], tokens[0]

    def embed_passages_with_tokens(
        self, texts: Sequence[str], progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        prompted = [self._passage_prompt + text for text in texts]
        return in_length_order(prompted, self.dimension, self.batch_size, self._forward, progress)

    def _forward(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Normalised mean-pooled vectors of `texts` and each one's token vectors, cut at its
        last token."""
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        summed = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        vectors = summed / np.linalg.norm(summed, axis=1, keepdims=True)
        lengths = mask.sum(axis=1)
        return vectors.astype(np.float32), [hidden[i, :n] for i, n in enumerate(lengths)]
