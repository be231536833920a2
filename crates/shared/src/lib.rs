//! Things every part of Vroom must agree on: ids, API wire types, Redis keys and scripts.
