fn main(){ println!("{}", ima_oracle::t()); }
