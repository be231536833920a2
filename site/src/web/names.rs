//! Random display names such as "Amber Otter".

const ADJECTIVES: &[&str] = &[
    "Amber", "Azure", "Brave", "Bright", "Calm", "Clever", "Coral", "Cosmic", "Crimson", "Daring",
    "Eager", "Gentle", "Golden", "Happy", "Indigo", "Jade", "Jolly", "Kind", "Lively", "Lucky",
    "Mellow", "Misty", "Noble", "Olive", "Plucky", "Quiet", "Rapid", "Rosy", "Silver", "Sunny",
    "Swift", "Teal", "Tidy", "Velvet", "Witty", "Zesty",
];

const ANIMALS: &[&str] = &[
    "Badger", "Beaver", "Bison", "Crane", "Dolphin", "Falcon", "Ferret", "Finch", "Fox", "Gecko",
    "Heron", "Ibis", "Koala", "Lemur", "Lynx", "Marten", "Moose", "Newt", "Ocelot", "Otter", "Owl",
    "Panda", "Puffin", "Quokka", "Raven", "Robin", "Seal", "Sparrow", "Stoat", "Tapir", "Tiger",
    "Toucan", "Walrus", "Wombat", "Yak", "Zebra",
];

/// A random "Adjective Animal" name.
pub fn random_name() -> String {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    let a = u16::from_le_bytes([bytes[0], bytes[1]]) as usize % ADJECTIVES.len();
    let b = u16::from_le_bytes([bytes[2], bytes[3]]) as usize % ANIMALS.len();
    format!("{} {}", ADJECTIVES[a], ANIMALS[b])
}
