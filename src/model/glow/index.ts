export { Glow3D, FlowInputError, type FlowOutput } from './glow';
export { initialFlowWeights, isFixedParameter } from './params';
export { SeededRandom } from '../../util/seeded-random';
