// Every suite registers itself on import; add one line per kernel family.
import './copy.js';
import './matmul.js';
import './w4a16.js';
import './w4a16-quantize.js';
import './w4a16-dequantize.js';
import './attention.js';
