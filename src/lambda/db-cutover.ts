// PLACEHOLDER — replaced by the db cutover work stream.
export const handler = async (): Promise<never> => {
  throw new Error('not implemented');
};
