"""Neurons: decode MLP neuron vectors through the LM head (decode_neurons -> NeuronMap), save
and load the map, find neurons for words, compare and merge maps."""

from interp.neurons.compare import Agreement, agreement
from interp.neurons.decode import LayerDecode
from interp.neurons.find import NeuronHit, count_coherent, find_neurons, token_variants
from interp.neurons.mapper import decode_neurons
from interp.neurons.merge import merge_maps
from interp.neurons.neuron_map import NeuronMap
from interp.neurons.options import DecodeOptions

__all__ = [
    "Agreement", "DecodeOptions", "LayerDecode", "NeuronHit", "NeuronMap", "agreement",
    "count_coherent", "decode_neurons", "find_neurons", "merge_maps", "token_variants",
]
