import { writeTinyCheckpoint } from '../tests/support/tiny-checkpoints';
writeTinyCheckpoint('/tmp/lr/m4', { arch: 'mixtral', layers: 4, seed: 7 });
