"""Writes the real pickles the unpickler tests read (run with the system Python, which has
Debian's python3-torch): torch.save in both formats, pickle.dumps of tensors, a checkpoint-shaped
pickle of persistent records (a stand-in `torch_utils.persistence` module written here, so the
records are pickled exactly as the official persistence module pickles them), and values.json with
what each holds. Usage: /usr/bin/python3 make_pickles.py OUTDIR"""
import json, os, pickle, sys, types
import numpy as np
import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
base = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) / 7 - 1
tensors = {
    'f32': base.clone(),
    'f16': (base * 3).half(),
    'f64': base.double() * 1e-3,
    'i64': torch.arange(-5, 7, dtype=torch.int64).reshape(3, 4),
    'u8': torch.arange(0, 250, 25, dtype=torch.uint8),
    'bool': torch.tensor([True, False, True]),
    'transposed': base[0].t(),              # non-contiguous view (stride [1, 4])
    'offset_view': base.reshape(-1)[5:17],  # storage offset 5, shared storage
    'scalar': torch.tensor(2.5),
    'param': torch.nn.Parameter(torch.ones(2, 2) * 0.25),
}
values = {k: {'shape': list(v.shape), 'values': v.detach().double().reshape(-1).tolist() if v.dtype != torch.bool else [float(x) for x in v.reshape(-1).tolist()]} for k, v in tensors.items()}
json.dump(values, open(os.path.join(out, 'values.json'), 'w'))
torch.save(tensors, os.path.join(out, 'legacy.pt'), _use_new_zipfile_serialization=False)
torch.save(tensors, os.path.join(out, 'zip.pt'))
for proto in (2, 4):
    with open(os.path.join(out, f'dumps-p{proto}.pkl'), 'wb') as f:
        f.write(pickle.dumps(tensors, protocol=proto))

# Persistent records as torch_utils.persistence pickles them: REDUCE(_reconstruct_persistent_obj, (meta,)).
pkg = types.ModuleType('torch_utils'); per = types.ModuleType('torch_utils.persistence')
def _reconstruct_persistent_obj(meta):
    raise RuntimeError('never called while writing')
_reconstruct_persistent_obj.__module__ = 'torch_utils.persistence'
per._reconstruct_persistent_obj = _reconstruct_persistent_obj
sys.modules['torch_utils'] = pkg; sys.modules['torch_utils.persistence'] = per; pkg.persistence = per

class Record:
    def __init__(self, class_name, state):
        self.meta = dict(type='class', version=6, module_src='raise SystemExit("module_src must never run")', class_name=class_name, state=state)
    def __reduce__(self):
        return (_reconstruct_persistent_obj, (self.meta,))

from collections import OrderedDict
def module(class_name, params=None, buffers=None, modules=None, **attrs):
    state = dict(training=False, _parameters=OrderedDict(params or {}), _buffers=OrderedDict(buffers or {}),
                 _modules=OrderedDict(modules or {}), _forward_hooks=OrderedDict(), **attrs)
    return Record(class_name, state)

fc = module('FullyConnectedLayer', params={'weight': torch.nn.Parameter(torch.randn(4, 3)), 'bias': torch.nn.Parameter(torch.zeros(4))},
            activation='lrelu', weight_gain=np.float64(0.5773502691896258), bias_gain=1, _init_args=(3, 4), _init_kwargs={'lr_multiplier': 0.01})
G = module('Generator', modules={'fc': fc, 'none': None}, buffers={'w_avg': torch.linspace(0, 1, 4), 'missing': None},
           z_dim=3, c_dim=0, img_resolution=32, block_resolutions=[4, 8], fp=np.float32(1.5), i=np.int64(7))
ckpt = dict(training_set_kwargs=dict(path='/data/x.zip', resolution=32, use_labels=False), G=G, D=None, G_ema=G)
with open(os.path.join(out, 'checkpoint.pkl'), 'wb') as f:
    pickle.dump(ckpt, f, protocol=4)
sg3 = dict(G=module('Generator', modules={'input': module('SynthesisInput')}), G_ema=None, D=None)
with open(os.path.join(out, 'stylegan3.pkl'), 'wb') as f:
    pickle.dump(sg3, f, protocol=4)
cyc = []; cyc.append(cyc)
with open(os.path.join(out, 'cycle-attrs.pkl'), 'wb') as f:
    pickle.dump(dict(G=module('Generator', loop=cyc)), f, protocol=4)
with open(os.path.join(out, 'cycle-list.pkl'), 'wb') as f:
    pickle.dump(cyc, f, protocol=2)
print('ok')
