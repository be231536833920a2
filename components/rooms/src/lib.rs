//! Spin HTTP component: the rooms API.
