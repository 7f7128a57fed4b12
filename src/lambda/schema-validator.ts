// PLACEHOLDER — replaced by the validator work stream.
export const handler = async (): Promise<never> => {
  throw new Error('not implemented');
};
